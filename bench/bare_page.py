"""The baseline of the page benchmark: the least a Streamlit page can be (a title, a sentence and
the footer caption the benchmark waits for), served and measured like the Impact page, so that
`make bench` shows the framework's own first-render time on this machine beside the page's.
Run by bench.pageview with `streamlit run`; not part of the product."""

import streamlit as st

st.title("Environmental impact")
st.write("A bare Streamlit page: no chain, no data, no chart.")
st.caption("This render made 0 JSON-RPC calls in 0 HTTP requests and took 0.00 s")

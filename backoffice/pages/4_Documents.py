"""The bond's documents on chain and whether the repository's files still match their hashes."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import streamlit as st  # noqa: E402

from backoffice import ui  # noqa: E402
from greenbond.backoffice import views  # noqa: E402

settings = ui.setup("Documents")
user = ui.require_login(settings)
st.title("Documents")
docs = ui.run(views.documents, settings, user)
if docs.empty:
    st.info("The bond has no documents on chain.")
else:
    st.dataframe(docs, hide_index=True, width="stretch")
ui.footer()

"""The public investor app: Streamlit's navigation over the pages in app/views/, titled in the
visitor's language. Serve it with `python -m app.serve` (or `streamlit run app/main.py`).

It serves public chain data and the operator's published readings only: no page imports the
code that opens holders' sealed details (greenbond.holders, greenbond.register, the back office),
and the server's configuration, never a visitor, says which chain and files it reads."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: greenbond and app

import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

HERE = Path(__file__).resolve().parent
t = ui.current_language()
PAGES = {
    "overview": st.Page(HERE / "views" / "overview.py", title=t("Overview"), icon=":material/eco:", default=True),
    "bond": st.Page(HERE / "views" / "bond.py", title=t("Bond"), icon=":material/description:", url_path="bond"),
    "impact": st.Page(HERE / "views" / "impact.py", title=t("Impact"), icon=":material/monitoring:", url_path="impact"),
    "verify": st.Page(HERE / "views" / "verify.py", title=t("Verify"), icon=":material/fact_check:", url_path="verify"),
    "holding": st.Page(HERE / "views" / "holding.py", title=t("My holding"), icon=":material/account_balance_wallet:", url_path="holding"),
}
st.navigation(list(PAGES.values())).run()

"""The issuer back office's Streamlit scripts (served by `python -m greenbond.backoffice serve`)."""

"""Register a holder: the details are sealed to the issuer's public key on the server and sent
with HolderRegistry.registerHolder, signed by the agent key of the logged-in agent account."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import streamlit as st  # noqa: E402

from backoffice import ui  # noqa: E402
from greenbond.backoffice import views  # noqa: E402
from greenbond.holders import TAX_CATEGORIES  # noqa: E402

settings = ui.setup("Holders")
user = ui.require_login(settings)
st.title("Register a holder")
if user.role != "agent":
    st.info("Registering holders is the agent's task (HolderRegistry REGISTRAR_ROLE); log in with an agent account.")
    ui.footer()
    st.stop()
st.write("The details are sealed to the issuer's public key before they leave the server; only the sealed "
         "blob and a salted hash of the customer number go on chain.")
with st.form("holder"):
    wallet = st.text_input("Wallet address", placeholder="0x...")
    customer = st.text_input("Customer number (the issuer's own reference)")
    name = st.text_input("Name")
    address = st.text_area("Postal address")
    email = st.text_input("E-mail")
    tax = st.selectbox("Tax category", TAX_CATEGORIES)
    country = st.number_input("Country (ISO 3166-1 numeric)", min_value=1, max_value=999, value=views.JAPAN)
    expires = st.date_input("Eligible until (empty: a year after maturity)", value=None)
    submitted = st.form_submit_button("Register on chain")
if submitted:
    done = ui.run(views.register_holder, settings, user, views.HolderForm(
        wallet, customer, name, address, email, tax, int(country), expires))
    st.success(f"Registered {done.wallet} as investor {done.investor_id[:18]}... in block {done.block} "
               f"(transaction {done.tx}, {done.sealed_bytes} bytes sealed).")
ui.footer()

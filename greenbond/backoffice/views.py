"""What the back office pages show and do. Every function takes a logged-in `auth.Session`, so
none of them can be reached without a login, and the ones that open personal details or act on
chain first check on chain that the session's address holds the account's role (`auth.ROLES`):
revoking the role on chain closes the back office to that account at once.

* `register_view`: the bond register at a date, block or 'latest' (greenbond.register), with the
  holders' sealed details opened by the issuer key. The key file is read here, after login, on
  each call, and never by the public app. Each call that opens details writes
  `open_personal_details` to the audit log (before anything is returned: no log, no details).
* `record_export`: writes `export_register_csv` when the CSV is downloaded.
* `register_holder`: seals a holder's details to the issuer's public key and sends
  HolderRegistry.registerHolder signed with the agent key from the server's configuration
  (GREENBOND_AGENT_KEY), which must be the key of the session's address.
* `market_status`, `documents`: the offering and DvP status and the bond's documents, read
  through greenbond.pageview like the public app.

Errors are PageError with a sentence for a person.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from greenbond import pageview as pv
from greenbond.backoffice.audit import AuditError, AuditLog, default_audit_path, summarize
from greenbond.backoffice.auth import ROLES, AuthStore, Session, default_accounts_path
from greenbond.chain import DEFAULT_RPC_URL
from greenbond.chain.keys import KEYSTORE_PASSWORD_ENV
from greenbond.chain.tx import DEV_CHAIN_IDS
from greenbond.deployments import DEPLOYMENTS_DIR
from greenbond.holders import ISSUER_KEY_ENV
from greenbond.pageview import PageError, guarded

AGENT_KEY_ENV = "GREENBOND_AGENT_KEY"
# Anvil's well-known first account, the registrar of a local demo chain: used only on chains 31337/1337
DEV_AGENT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
JAPAN = 392


@dataclass(frozen=True)
class BackofficeSettings:
    """The server's configuration; nothing here comes from a visitor."""

    rpc_url: str = DEFAULT_RPC_URL
    deployments_dir: str = str(DEPLOYMENTS_DIR)
    issuer_key: str = ""       # path of the issuer's private key file ("" = greenbond.holders' default)
    agent_key: str = ""        # path of the agent's key file ("" = Anvil's first key, dev chains only)
    accounts: str = ""         # the accounts file
    index: str = ""            # the event index the register reads events through ("" = events.sqlite beside the accounts)

    @property
    def page(self) -> pv.PageSettings:
        return pv.PageSettings(rpc_url=self.rpc_url, deployments_dir=self.deployments_dir)

    @property
    def accounts_path(self) -> Path:
        return Path(self.accounts) if self.accounts else default_accounts_path()

    @property
    def index_path(self) -> Path:
        return Path(self.index) if self.index else self.accounts_path.with_name("events.sqlite")

    @property
    def audit_path(self) -> Path:
        return default_audit_path(self.accounts_path)

    def store(self) -> AuthStore:
        return AuthStore(self.accounts_path)

    def audit(self) -> AuditLog:
        return AuditLog(self.audit_path)


def settings_from_env(env: dict | None = None) -> BackofficeSettings:
    """GREENBOND_RPC_URL, GREENBOND_DEPLOYMENTS, GREENBOND_ISSUER_KEY, GREENBOND_AGENT_KEY,
    GREENBOND_BACKOFFICE_ACCOUNTS and GREENBOND_INDEX, or the defaults."""
    env = os.environ if env is None else env
    return BackofficeSettings(
        rpc_url=env.get("GREENBOND_RPC_URL") or DEFAULT_RPC_URL,
        deployments_dir=env.get("GREENBOND_DEPLOYMENTS") or str(DEPLOYMENTS_DIR),
        issuer_key=env.get(ISSUER_KEY_ENV) or "",
        agent_key=env.get(AGENT_KEY_ENV) or "",
        accounts=str(default_accounts_path(env)),
        index=env.get("GREENBOND_INDEX") or "",
    )


def _sentence(msg: str) -> str:
    msg = msg.strip()
    return (msg[:1].upper() + msg[1:] + ("" if msg.endswith(".") else ".")) if msg else msg


def _audit(settings: BackofficeSettings, user: Session, action: str, **details) -> None:
    try:
        settings.audit().record(user.username, user.role, action, **details)
    except AuditError as exc:
        raise PageError(f"{exc} Nothing is shown or done without an audit entry.") from None


# ---------------------------------------------------------------- the account's role on chain


@dataclass(frozen=True)
class RoleCheck:
    role: str
    contract: str
    role_name: str
    address: str
    confirmed: bool

    @property
    def sentence(self) -> str:
        verb = "holds" if self.confirmed else "does NOT hold"
        return f"{self.address} {verb} {self.role_name} of {self.contract} on chain."


@guarded
def role_check(settings: BackofficeSettings, user: Session) -> RoleCheck:
    """Whether the session's address holds its account's role on chain now."""
    s = pv.session(settings.rpc_url, settings.deployments_dir)
    contract_name, role_name = ROLES[user.role]
    contract = s.suite.bond if contract_name == "GreenBond" else s.suite.registry
    role = bytes(32) if role_name == "DEFAULT_ADMIN_ROLE" else getattr(contract.functions, role_name)().call()
    confirmed = bool(contract.functions.hasRole(role, user.address).call())
    return RoleCheck(user.role, contract_name, role_name, user.address, confirmed)


def require_role(settings: BackofficeSettings, user: Session, *roles: str) -> RoleCheck:
    """Stops with a sentence unless the account has one of `roles` and the chain confirms it."""
    if roles and user.role not in roles:
        raise PageError(f"Your account acts as {user.role}; this needs the {' or '.join(roles)} role.")
    check = role_check(settings, user)
    if not check.confirmed:
        raise PageError(f"Your account's address {check.address} does not hold {check.role_name} of "
                        f"{check.contract} on this chain, so the back office does not act for it.")
    return check


# ---------------------------------------------------------------- the register


@dataclass
class RegisterView:
    title: str
    at_text: str
    at_description: str
    holders: int
    total_units: int
    total_face: int
    currency: str
    personal_details: bool
    key_note: str
    table: pd.DataFrame
    csv: str
    checks: list[str]


@guarded
def register_view(settings: BackofficeSettings, user: Session, at_text: str, details: bool = True) -> RegisterView:
    """The bond register at a date (YYYY-MM-DD), a block number or 'latest', from greenbond.register.

    With `details` the issuer key is read (after login, on this call only) and every holder's
    sealed details are opened; the opening is written to the audit log before the view is
    returned. Both roles may read the register: the issuer owns it and the agent pays and
    registers the holders it lists."""
    from greenbond.chain import ChainError
    from greenbond.chain.index import EventIndex
    from greenbond.register import RegisterError, build_register, load_private_key, parse_at, render_csv

    try:
        at = parse_at(at_text)
    except ValueError as exc:
        raise PageError(_sentence(str(exc))) from None
    require_role(settings, user, *ROLES)
    s = pv.session(settings.rpc_url, settings.deployments_dir)
    try:
        key, path = (load_private_key(Path(settings.issuer_key) if settings.issuer_key else None, required=False)
                     if details else (None, None))
        if not details:
            note = "Personal details not included (not asked for)."
        else:
            note = f"Personal details not included: no issuer key at {path} (set {ISSUER_KEY_ENV} on the server)."
        with EventIndex(settings.index_path) as index:
            reg = build_register(s.w3, s.terms, at, deployments_dir=s.deployments_dir, private_key=key,
                                 key_note="" if key else note, index=index)
    except (RegisterError, ChainError) as exc:
        raise PageError(_sentence(str(exc))) from None
    if reg.personal_details:
        _audit(settings, user, "open_personal_details", at=reg.at.text, block=reg.target_block,
               holders=len(reg.holders))
    table = pd.DataFrame([{
        "name": r.name, "units": r.units, "face amount": r.face_amount, "postal address": r.postal_address,
        "email": r.email, "tax category": r.tax_category, "wallet": r.wallet, "investor id": r.investor_id,
        "acquired": r.acquisition_text, "coupons paid": r.coupons_text(reg.currency, paid=True),
        "coupons unpaid": r.coupons_text(reg.currency, paid=False),
    } for r in reg.holders])
    return RegisterView(
        title=f"Bond register: {reg.bond_name} at {reg.at.text}", at_text=reg.at.text,
        at_description=reg.at_description, holders=len(reg.holders), total_units=reg.total_units,
        total_face=reg.total_face, currency=reg.currency, personal_details=reg.personal_details,
        key_note=reg.key_note, table=table, csv=render_csv(reg), checks=list(reg.checks),
    )


def record_export(settings: BackofficeSettings, user: Session, view: RegisterView) -> None:
    """The audit entry for a CSV download of the register (called when the button is clicked)."""
    _audit(settings, user, "export_register_csv", at=view.at_text, holders=view.holders,
           personal_details=view.personal_details)


# ---------------------------------------------------------------- offering, DvP, documents


@guarded
def market_status(settings: BackofficeSettings, user: Session) -> pv.MarketView:
    return pv.market_view(settings.page)


@guarded
def documents(settings: BackofficeSettings, user: Session) -> pd.DataFrame:
    docs = pv.bond_overview(settings.page).documents
    return pd.DataFrame([{"document": d.name, "uri": d.uri, "hash on chain": d.chain_hash,
                          "hash of the file": d.file_hash, "check": d.check} for d in docs])


def audit_table(settings: BackofficeSettings, user: Session, limit: int = 500) -> pd.DataFrame:
    """The last `limit` audit entries, newest first (reading the log is itself logged)."""
    try:
        entries = settings.audit().entries(limit)
    except AuditError as exc:
        raise PageError(str(exc)) from None
    _audit(settings, user, "view_audit_log", entries=len(entries))
    return pd.DataFrame(list(reversed(summarize(entries))), columns=["at (UTC)", "user", "role", "action", "details"])


# ---------------------------------------------------------------- registering a holder


def agent_signer(settings: BackofficeSettings, chain_id: int, user: Session):
    """The key that signs the agent's transactions, read after login from GREENBOND_AGENT_KEY (a
    file with a hex private key, or an encrypted JSON keystore whose password is in
    GREENBOND_KEYSTORE_PASSWORD). Without it, on a local dev chain only, Anvil's first key. The
    key must be the key of the session's address: an account never signs for another."""
    from eth_account import Account

    from greenbond.chain.tx import Signer

    if settings.agent_key:
        path = Path(settings.agent_key)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PageError(f"The agent key file {path} cannot be read ({exc.strerror}).") from None
        try:
            if text.startswith("{"):
                key = Account.decrypt(json.loads(text), os.environ.get(KEYSTORE_PASSWORD_ENV, ""))
            else:
                key = text
            acct = Account.from_key(key)
        except (ValueError, TypeError, KeyError):
            raise PageError(f"The agent key file {path} holds no usable key (a hex private key, or a keystore "
                            f"whose password is in {KEYSTORE_PASSWORD_ENV}).") from None
    elif chain_id in DEV_CHAIN_IDS:
        acct = Account.from_key(DEV_AGENT_KEY)
    else:
        raise PageError(f"No agent key on the server: set {AGENT_KEY_ENV} to the key file of {user.address}.")
    if acct.address.lower() != user.address.lower():
        raise PageError(f"The agent key on the server is for {acct.address}, not for your account's {user.address}.")
    return Signer(acct.address, acct)


@dataclass(frozen=True)
class HolderForm:
    """What the Holders page collects. Personal fields stay in memory; their repr hides them."""

    wallet: str
    customer_id: str
    name: str
    postal_address: str
    email: str
    tax_category: str
    country: int = JAPAN
    expires: dt.date | None = None

    def __repr__(self) -> str:
        return f"HolderForm(wallet={self.wallet!r}, <personal details redacted>)"


@dataclass(frozen=True)
class Registered:
    wallet: str
    investor_id: str
    tx: str
    block: int
    sealed_bytes: int


@guarded
def register_holder(settings: BackofficeSettings, user: Session, form: HolderForm) -> Registered:
    """Seals `form`'s details to the issuer's public key and registers the wallet on chain, as
    the session's agent account. The investor id is the salted hash of the customer id (salt from
    the issuer key file); only the hash and the sealed blob go on chain."""
    from greenbond.holders import (HolderDetails, HolderDetailsError, IssuerKeyError, default_issuer_key_path,
                                   investor_id, load_investor_id_salt, load_issuer_public_key, seal)
    from greenbond.chain.tx import TransactionFailed, transact

    wallet = pv.parse_address(form.wallet)   # a sentence for a malformed address
    require_role(settings, user, "agent")
    s = pv.session(settings.rpc_url, settings.deployments_dir)
    registry = s.suite.registry
    if registry.functions.holderOf(wallet).call()[2] != 0:
        raise PageError(f"{wallet} is registered already (use an update, not a new registration).")
    try:
        details = HolderDetails(form.name, form.postal_address, form.email, form.tax_category)
    except HolderDetailsError as exc:
        raise PageError(_sentence(str(exc))) from None
    if not (1 <= int(form.country) <= 999):
        raise PageError("The country is an ISO 3166-1 numeric code (1 to 999).")
    expires_day = form.expires or (s.terms.maturity_date + dt.timedelta(days=365))
    expires = s.terms.timestamp(expires_day)
    if expires <= s.w3.eth.get_block("latest")["timestamp"]:
        raise PageError("The registration must expire in the future.")
    key_path = Path(settings.issuer_key) if settings.issuer_key else default_issuer_key_path()
    try:
        public_key = load_issuer_public_key(key_path)     # sealing needs only the public half
        salt = load_investor_id_salt(key_path)
        iid = investor_id(form.customer_id, salt)
        blob = seal(details, public_key)
    except IssuerKeyError as exc:
        raise PageError(_sentence(str(exc))) from None
    except ValueError as exc:   # an empty customer id
        raise PageError(_sentence(str(exc))) from None
    signer = agent_signer(settings, s.w3.eth.chain_id, user)
    fn = registry.functions.registerHolder(wallet, iid, int(form.country), expires, blob)
    try:
        receipt = transact(s.w3, fn, signer)
    except TransactionFailed as exc:
        _audit(settings, user, "register_holder_failed", wallet=wallet, reason=str(exc)[:200])
        raise PageError(_sentence(str(exc))) from None
    tx = "0x" + bytes(receipt["transactionHash"]).hex().removeprefix("0x")
    _audit(settings, user, "register_holder", wallet=wallet, tx=tx, block=receipt["blockNumber"])
    return Registered(wallet, "0x" + iid.hex(), tx, receipt["blockNumber"], len(blob))

"""What every page shares: the server's settings, cached calls into greenbond.pageview, errors as
sentences, and the count of JSON-RPC calls a render made. No chain logic lives here."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from app import i18n
from app.i18n import Translator
from greenbond import pageview as pv

TTL = 30  # seconds a chain read is reused


def current_language() -> Translator:
    """The visitor's language: the sidebar's switch (this session), else `?lang=` in the URL (a
    shared link), else the browser's (Japanese when it asks for it), else English."""
    try:
        locale = st.context.locale
    except Exception:  # noqa: BLE001 -- no browser (AppTest): the URL or the default decides
        locale = None
    try:
        accept = st.context.headers.get("Accept-Language")
    except Exception:  # noqa: BLE001
        accept = None
    choice = st.session_state.get("_lang") or st.query_params.get("lang")
    return Translator(i18n.detect(choice, locale, accept))


def language() -> Translator:
    """The language switch in the sidebar; the choice is kept in the URL (`?lang=ja|en`)."""
    lang = current_language().lang
    with st.sidebar:
        chosen = st.radio("言語 / Language", i18n.LANGS, index=i18n.LANGS.index(lang),
                          format_func=i18n.LANG_NAMES.get, horizontal=True, key="_lang")
    if st.query_params.get("lang") != chosen:
        st.query_params["lang"] = chosen
    return Translator(chosen)


def setup(title: str) -> tuple[pv.PageSettings, Translator]:
    """Page config, the language, and the RPC counter for this render. The chain endpoint, the
    deployment and the data paths come from the server's configuration
    (greenbond.pageview.settings_from_env), never from a visitor: a public page offers no field
    that points the server at a URL or a file."""
    st.set_page_config(page_title="Digital Green Bond", page_icon=":material/eco:", layout="wide")
    t = language()
    st.session_state["_t"] = t
    with st.sidebar:
        st.caption(t("Public investor page: public chain data and the operator's published readings only."))
        if st.button(t("Reload from the chain")):
            st.cache_data.clear()
            impact_view.clear()
    st.session_state["_rpc_before"] = pv.rpc_stats()
    st.session_state["_render_start"] = time.perf_counter()
    return pv.settings_from_env(), t


def _t() -> Translator:
    return st.session_state.get("_t") or Translator("en")


def public_sentence(message: str, settings: pv.PageSettings | None = None) -> str:
    """An error sentence as a visitor may see it: the server's own settings (its node's URL, its
    folders) are the operator's business, so they are replaced by "(server setting)"."""
    settings = settings or pv.settings_from_env()
    secrets = {settings.rpc_url, settings.published_dir, settings.deployments_dir, str(pv.REPO_ROOT)}
    for value in list(secrets):
        if value and not value.startswith("http"):
            secrets.add(str(Path(value).resolve()))
    for value in sorted((v for v in secrets if v), key=len, reverse=True):   # the longest first: a folder inside the repo
        message = message.replace(value, "(server setting)")
    return message


def fail(exc: BaseException) -> None:
    """Shows an error as a sentence (without the server's settings) and stops the page."""
    if isinstance(exc, pv.PageError):
        st.error(public_sentence(str(exc)))
    else:
        st.error(_t()("The page could not read the chain: {error}",
                      error=public_sentence(f"{type(exc).__name__}: {exc}")))
    footer()
    st.stop()


def run(fn, *args, **kwargs):
    """Calls `fn`; an error becomes a sentence on the page."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 -- every failure is shown as a sentence, never a traceback
        if type(exc).__name__ in ("StopException", "RerunException"):
            raise
        fail(exc)


def footer() -> None:
    d = pv.rpc_delta(st.session_state.get("_rpc_before", pv.rpc_stats()))
    took = time.perf_counter() - st.session_state.get("_render_start", time.perf_counter())
    st.caption(_t()(
        "This render made {calls} JSON-RPC calls in {requests} HTTP requests and took {took} s on the server "
        "(chain reads are cached for {ttl} s).", calls=d["calls"], requests=d["requests"], took=f"{took:.2f}", ttl=TTL))


def _s(rpc_url, deployments_dir) -> pv.PageSettings:
    return pv.PageSettings(rpc_url=rpc_url, deployments_dir=deployments_dir)


@st.cache_data(ttl=TTL, show_spinner="Reading the bond from the chain ...")
def bond_overview(rpc_url: str, deployments_dir: str):
    return pv.bond_overview(_s(rpc_url, deployments_dir))


@st.cache_data(ttl=TTL, show_spinner="Reading the offering and the open trades ...")
def market_view(rpc_url: str, deployments_dir: str):
    return pv.market_view(_s(rpc_url, deployments_dir))


@st.cache_resource(ttl=TTL, show_spinner="Reading the impact reports from the chain ...")
def impact_view(rpc_url: str, deployments_dir: str):
    """Shared by every session (a cache resource: not pickled per hit); the page only reads it.
    The logs behind it are cached per chain in greenbond.pageview and topped up incrementally."""
    return pv.impact_view(_s(rpc_url, deployments_dir))


@st.cache_data(ttl=TTL, show_spinner=False)
def credits_view(rpc_url: str, deployments_dir: str):
    return pv.credits_view(_s(rpc_url, deployments_dir))


@st.cache_data(ttl=TTL, show_spinner=False)
def facility_names(rpc_url: str, deployments_dir: str):
    return pv.facility_names(_s(rpc_url, deployments_dir))


@st.cache_data(ttl=TTL, show_spinner=False)
def report_hours(rpc_url: str, deployments_dir: str, facility_id: int):
    return pv.report_hours(_s(rpc_url, deployments_dir), facility_id)


def _settings(rpc_url: str, deployments_dir: str, published_dir: str) -> pv.PageSettings:
    return pv.PageSettings(rpc_url=rpc_url, deployments_dir=deployments_dir, published_dir=published_dir)


@st.cache_data(ttl=TTL, show_spinner="Checking the readings on chain ...")
def verify_report(rpc_url: str, deployments_dir: str, published_dir: str, facility_id: int, index: int,
                  only: int | None, tamper: tuple[int, int] | None):
    return pv.verify_report(_settings(rpc_url, deployments_dir, published_dir), facility_id, index, only=only,
                            tamper=tamper)


@st.cache_data(ttl=TTL, show_spinner="Checking the uploaded file against the chain ...")
def verify_uploaded(rpc_url: str, deployments_dir: str, published_dir: str, data: bytes, name: str,
                    only: int | None, tamper: tuple[int, int] | None):
    return pv.verify_uploaded(_settings(rpc_url, deployments_dir, published_dir), data, name=name, only=only,
                              tamper=tamper)


def published_bytes(settings: pv.PageSettings, result) -> bytes | None:
    return pv.published_bytes(settings, result)


@st.cache_data(ttl=TTL, show_spinner="Reading the holding from the chain ...")
def holding(rpc_url: str, deployments_dir: str, address: str):
    return pv.holding(_s(rpc_url, deployments_dir), address)


def document_bytes(uri: str) -> bytes | None:
    return pv.document_bytes(uri)

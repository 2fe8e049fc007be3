"""What every page shares: the server's settings, cached calls into greenbond.pageview, errors as
sentences, and the count of JSON-RPC calls a render made. No chain logic lives here."""

from __future__ import annotations

import time

import streamlit as st

from greenbond import pageview as pv

TTL = 30  # seconds a chain read is reused


def setup(title: str) -> pv.PageSettings:
    """Page config and the RPC counter for this render. The chain endpoint, the deployment and the
    data paths come from the server's configuration (greenbond.pageview.settings_from_env), never
    from a visitor: a public page offers no field that points the server at a URL or a file."""
    st.set_page_config(page_title=f"{title} · Digital Green Bond", page_icon="🌱", layout="wide")
    with st.sidebar:
        if st.button("Reload from the chain"):
            st.cache_data.clear()
            impact_view.clear()
    st.session_state["_rpc_before"] = pv.rpc_stats()
    st.session_state["_render_start"] = time.perf_counter()
    return pv.settings_from_env()


def fail(exc: BaseException) -> None:
    """Shows an error as a sentence and stops the page."""
    if isinstance(exc, pv.PageError):
        st.error(str(exc))
    else:
        st.error(f"The page could not read the chain: {type(exc).__name__}: {exc}")
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
    st.caption(
        f"This render made {d['calls']} JSON-RPC calls in {d['requests']} HTTP requests and took {took:.2f} s "
        f"on the server (chain reads are cached for {TTL} s)."
    )


def _s(rpc_url, deployments_dir, feeder_db="") -> pv.PageSettings:
    return pv.PageSettings(rpc_url=rpc_url, deployments_dir=deployments_dir, feeder_db=feeder_db)


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
def facility_names(rpc_url: str, deployments_dir: str):
    return pv.facility_names(_s(rpc_url, deployments_dir))


@st.cache_data(ttl=TTL, show_spinner=False)
def report_hours(rpc_url: str, deployments_dir: str, facility_id: int):
    return pv.report_hours(_s(rpc_url, deployments_dir), facility_id)


@st.cache_data(ttl=TTL, show_spinner="Checking the readings on chain ...")
def verify_report(rpc_url: str, deployments_dir: str, feeder_db: str, facility_id: int, index: int,
                  only: int | None, tamper: tuple[int, int] | None):
    return pv.verify_report(_s(rpc_url, deployments_dir, feeder_db), facility_id, index, only=only, tamper=tamper)


@st.cache_data(ttl=TTL, show_spinner="Reading the holding from the chain ...")
def holding(rpc_url: str, deployments_dir: str, address: str):
    return pv.holding(_s(rpc_url, deployments_dir), address)


def yen(amount: int | None, currency: str = "JPY") -> str:
    return "" if amount is None else f"{currency} {amount:,}"

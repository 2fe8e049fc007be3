"""What every browser test needs: Debian's Chromium and the playwright package (Playwright's own
browser download is not used). Without Chromium the tests FAIL (CI installs it); set
GREENBOND_SKIP_BROWSER=1 to skip them instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.pageview_fixture import CHROMIUM


@pytest.fixture(scope="session")
def need_browser():
    if os.environ.get("GREENBOND_SKIP_BROWSER") == "1":
        pytest.skip("GREENBOND_SKIP_BROWSER=1: the browser test is skipped")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does) "
                    "or set GREENBOND_SKIP_BROWSER=1 to skip this test", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -r requirements.txt", pytrace=False)

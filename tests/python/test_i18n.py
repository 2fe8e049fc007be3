"""The investor app in Japanese and English: every text a page passes to `t()` has its Japanese
entry (so no label ships untranslated), the language follows the visitor's choice, then the
browser, and the formats are each language's (numbers grouped, yen, dates, rates exact)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.i18n import JA, Formats, Translator, detect

APP = Path(__file__).resolve().parents[2] / "app"


def texts_passed_to_t() -> dict[str, str]:
    """Every literal first argument of a call to `t(...)` in app/**.py, with where it is."""
    found = {}
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found[node.args[0].value] = f"{path.relative_to(APP)}:{node.lineno}"
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Call) and isinstance(node.func.func, ast.Attribute)
                    and node.func.func.attr == "_t" and node.args and isinstance(node.args[0], ast.Constant)):
                found[node.args[0].value] = f"{path.relative_to(APP)}:{node.lineno}"
    return found


def test_every_page_text_has_its_japanese():
    found = texts_passed_to_t()
    assert len(found) > 150, "the scan found too few texts: is it still reading the pages?"
    missing = {text: where for text, where in found.items() if text not in JA}
    assert not missing, "no Japanese for:\n" + "\n".join(f"{w}: {t!r}" for t, w in sorted(missing.items(), key=lambda x: x[1]))


def test_japanese_keeps_every_placeholder():
    import string

    for en, ja in JA.items():
        names = {f for _, f, _, _ in string.Formatter().parse(en) if f}
        assert names == {f for _, f, _, _ in string.Formatter().parse(ja) if f}, en


@pytest.mark.parametrize("choice, locale, accept, want", [
    ("en", "ja-JP", "ja", "en"),            # the visitor's choice wins
    ("ja", "en-US", "en", "ja"),
    (None, "ja-JP", None, "ja"),            # the browser asks for Japanese
    (None, None, "ja,en-US;q=0.9", "ja"),
    (None, None, "en-GB,ja;q=0.5", "en"),
    (None, None, "fr-FR,ja;q=0.8", "ja"),   # the first language we have
    (None, None, None, "en"),
    ("de", None, None, "en"),               # an unknown ?lang= is ignored
])
def test_language_choice(choice, locale, accept, want):
    assert detect(choice, locale, accept) == want


def test_formats_of_each_language():
    ja, en = Formats("ja"), Formats("en")
    assert ja.money(10_000_000_000) == "10,000,000,000円"
    assert en.money(10_000_000_000) == "JPY 10,000,000,000"
    assert ja.oku_yen(10_000_000_000) == "100億円" and en.oku_yen(10_000_000_000) == "JPY 10 bn"
    assert ja.oku_yen(123) == "123円"                       # not a round amount: exact
    assert ja.date(dt.date(2028, 12, 14)) == "2028年12月14日" and en.date(dt.date(2028, 12, 14)) == "14 Dec 2028"
    assert en.percent_ppm(5_980) == "0.598%" and en.percent_ppm(10_000) == "1%"
    assert en.num(11_212_500) == "11,212,500"
    assert en.energy_mj(17_081_398_999_999) == "17,081,398 MJ"          # truncated, never rounded up
    assert en.co2_t(808_699_999_999, 1) == "808.6 t-CO2"
    assert en.co2_t(999_999, 3) == "0.000 t-CO2"
    tz = ZoneInfo("Asia/Tokyo")
    ts = int(dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.timezone.utc).timestamp())
    assert ja.time(ts, tz) == "2026年12月1日 14:00 JST" and en.time(ts, tz) == "1 Dec 2026 14:00 JST"
    assert ja.hour_range(ts, tz) == "2026年12月1日 14:00–15:00 JST" and en.hour_range(ts, tz) == "1 Dec 2026 14:00–15:00 JST"
    assert ja.duration(3 * 3600 + 5 * 60) == "3時間05分" and en.duration(3 * 3600 + 5 * 60) == "3 h 05 min"
    assert en.duration(47 * 3600 + 59 * 60) == "47 h 59 min"                   # up to two days: hours
    assert en.duration(17_937 * 3600) == "747 days 9 h" and ja.duration(17_937 * 3600) == "747日9時間"


def test_translator_fills_placeholders_and_states():
    t = Translator("ja")
    assert t("in {days} days", days=3) == "あと3日"
    assert t.state("active") == "有効" and Translator("en").state("active") == "active"
    assert Translator("xx").lang == "en"

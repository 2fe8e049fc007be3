"""Japanese and English for the investor app: the words (a catalog keyed by the English text) and
the formats (numbers, money, dates, times, units) of each language.

The language is the visitor's choice (the sidebar, kept in the URL as `?lang=ja|en`), else the
browser's: Japanese when the browser asks for it (its locale or Accept-Language), English
otherwise. `tests/python/test_i18n.py` checks that every text the pages pass to `t()` has its
Japanese entry, so a new label cannot ship untranslated.

Money and impact stay integers until they are formatted here; formatting never rounds a figure
up (energy and CO2 are truncated toward zero, like the chain's own share rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

LANGS = ("ja", "en")
LANG_NAMES = {"ja": "日本語", "en": "English"}


def detect(choice: str | None, locale: str | None, accept_language: str | None) -> str:
    """The visitor's choice if valid; else Japanese when the browser's locale or its
    Accept-Language puts Japanese first among the languages we have; else English."""
    if choice in LANGS:
        return choice
    if locale:
        return "ja" if locale.lower().startswith("ja") else "en"
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("ja"):
            return "ja"
        if tag.startswith("en"):
            return "en"
    return "en"


# ---------------------------------------------------------------- formats


@dataclass(frozen=True)
class Formats:
    lang: str

    def num(self, value: int | float, decimals: int = 0) -> str:
        """Grouped digits; a float is truncated toward zero at `decimals` (never rounded up)."""
        if isinstance(value, int) and decimals == 0:
            return f"{value:,}"
        scale = 10 ** decimals
        truncated = int(value * scale) / scale
        return f"{truncated:,.{decimals}f}"

    def money(self, amount: int | None, currency: str = "JPY") -> str:
        """en: "JPY 10,000,000,000"; ja: "10,000,000,000円" (other currencies keep their code)."""
        if amount is None:
            return ""
        if self.lang == "ja" and currency == "JPY":
            return f"{amount:,}円"
        return f"{currency} {amount:,}"

    def oku_yen(self, amount: int, currency: str = "JPY") -> str:
        """A large yen amount as people say it: "100億円" / "JPY 10 bn"; exact amounts elsewhere."""
        if currency != "JPY" or amount % 100_000_000:
            return self.money(amount, currency)
        if self.lang == "ja":
            return f"{amount // 100_000_000:,}億円"
        return f"JPY {self.num(amount / 1e9, 1 if amount % 1_000_000_000 else 0)} bn"

    def date(self, d: dt.date | None) -> str:
        if d is None:
            return ""
        if self.lang == "ja":
            return f"{d.year}年{d.month}月{d.day}日"
        return f"{d.day} {d.strftime('%b')} {d.year}"

    def time(self, ts: int, tz: ZoneInfo) -> str:
        t = dt.datetime.fromtimestamp(ts, tz)
        zone = t.tzname() or tz.key
        if self.lang == "ja":
            return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M} {zone}"
        return f"{t.day} {t.strftime('%b')} {t.year} {t:%H:%M} {zone}"

    def hour_range(self, start: int, tz: ZoneInfo) -> str:
        """An hour as its start and end: "2 Dec 2026 16:00–17:00 JST"."""
        end = dt.datetime.fromtimestamp(start + 3600, tz)
        text = self.time(start, tz)
        zone = text.rsplit(" ", 1)[1]
        return f"{text.rsplit(' ', 1)[0]}–{end:%H:%M} {zone}"

    def hours(self, n: int) -> str:
        return f"{n:,}時間" if self.lang == "ja" else f"{n:,} h"

    def duration(self, seconds: int | None) -> str:
        if seconds is None:
            return "—"
        h, rem = divmod(max(0, seconds), 3600)
        if h >= 48:   # a long silence reads in days ("747 days 9 h", not "17937 h 00 min")
            d, h = divmod(h, 24)
            return f"{d:,}日{h}時間" if self.lang == "ja" else f"{d:,} days {h} h"
        return f"{h}時間{rem // 60:02d}分" if self.lang == "ja" else f"{h} h {rem // 60:02d} min"

    def percent_ppm(self, ppm: int) -> str:
        """A rate in parts per million, exact: 5,980 ppm -> "0.598%"."""
        whole, frac = divmod(ppm, 10_000)
        text = f"{whole}.{frac:04d}".rstrip("0").rstrip(".")
        return f"{text}%"

    def energy_mj(self, joules: int) -> str:
        return f"{self.num(joules // 1_000_000)} MJ"

    def co2_t(self, mg: int, decimals: int = 1) -> str:
        scale = 10 ** decimals
        tenths = mg * scale // 1_000_000_000
        whole, frac = divmod(tenths, scale)
        text = f"{whole:,}" + (f".{frac:0{decimals}d}" if decimals else "")
        return f"{text} t-CO2"


# ---------------------------------------------------------------- words

JA: dict[str, str] = {
    "Of which credited: {co2} of the bond's share, in hours from which carbon credits were issued. Those tonnes are claimed by the credits' holders, not by the bond's investors.": 'うちクレジット化済み：債券持分のうち{co2}（カーボンクレジットが発行された時間帯）。この削減量はクレジットの保有者に帰属し、債券の投資家には帰属しません。',
    'Carbon credits': 'カーボンクレジット',
    'Credits (1 credit = 1 kg CO2e) issued only from hourly reports in force, for one facility and one monitoring period a batch, approved by a verifier who is not the issuer; no hour is credited twice. Retired credits are burned and certified. Contract {contract}.': 'クレジット（1クレジット＝1 kg-CO2e）は有効な時間別レポートのみから、1バッチにつき1施設・1モニタリング期間で発行され、発行体以外の検証機関が承認します。同じ時間が二重にクレジット化されることはありません。償却（リタイア）されたクレジットは焼却され、証明書が記録されます。コントラクト {contract}。',
    'No credit batch yet.': 'クレジットのバッチはまだありません。',
    'Credits issued': '発行済みクレジット',
    'Credits retired': '償却済みクレジット',
    'Retirement certificates': '償却証明書',
    'batch': 'バッチ',
    'period': '期間',
    'hours': '時間数',
    'credits (kg CO2e)': 'クレジット（kg-CO2e）',
    'retired': '償却済み',
    'serials': 'シリアル番号',
    'verifier': '検証機関',
    'verification document (keccak256)': '検証報告書（keccak256）',
    'reports root': 'レポートのルート',
    'Check a retirement down to one meter reading: `greenbond credits verify --certificate N`.': '償却を個々のメーター読値まで検証できます：`greenbond credits verify --certificate N`。',
    'draft': '作成中',
    'sealed': '確定（検証待ち）',
    'approved': '承認済み',
    'issued': '発行済み',
    # navigation and common
    "Overview": "概要",
    "Bond": "社債",
    "Impact": "環境効果",
    "Verify": "検証",
    "My holding": "保有状況",
    "Language": "言語",
    "Reload from the chain": "チェーンから再読み込み",
    "Digital green bond": "デジタルグリーンボンド",
    "Public investor page: public chain data and the operator's published readings only.":
        "投資家向け公開ページ：公開されたチェーン上のデータと運営者が公開した計測値のみを表示します。",
    "This render made {calls} JSON-RPC calls in {requests} HTTP requests and took {took} s on the server "
    "(chain reads are cached for {ttl} s).":
        "この表示では JSON-RPC 呼び出し {calls} 回（HTTP リクエスト {requests} 回）、サーバー処理 {took} 秒"
        "（チェーンの読み取りは {ttl} 秒間キャッシュされます）。",
    "The page could not read the chain: {error}": "チェーンを読み取れませんでした：{error}",
    "yes": "はい",
    "no": "いいえ",
    "none": "なし",
    # overview
    "What the bond is": "どんな社債か",
    "What the money did": "資金が生んだ効果",
    "How to check it": "確かめる方法",
    "Amount issued": "発行額",
    "Coupon rate": "利率",
    "{rate} a year, paid {n} times a year": "年{rate}、年{n}回払い",
    "Term": "期間",
    "{start} to {end}": "{start}〜{end}",
    "Status": "状態",
    "Next coupon": "次回利払日",
    "in {days} days": "あと{days}日",
    "no further coupon": "今後の利払いなし",
    "Energy reduction, last 24 h": "エネルギー削減量（直近24時間）",
    "CO2 avoided, last 24 h": "CO2削減量（直近24時間）",
    "Energy reduction since issuance": "エネルギー削減量（発行以来）",
    "CO2 avoided since issuance": "CO2削減量（発行以来）",
    "Coverage": "カバー率",
    "Latest reported hour ended": "最新の報告時間帯の終了",
    "{age} ago": "{age}前",
    "no report yet": "報告なし",
    "The bond's share of the facilities it finances (allocated proceeds / financed cost), from the hourly "
    "reports on chain; coverage is hours reported / hours elapsed since reporting started.":
        "本債券が資金充当した施設の効果のうち、本債券に帰属する分（充当額 ÷ 施設の総調達額）です。"
        "チェーン上の毎時報告から計算しています。カバー率は報告済み時間 ÷ 報告開始以来の経過時間です。",
    "Not in these figures: {names} (not financed by this bond).":
        "次の施設はこの数値に含みません：{names}（本債券の資金充当なし）。",
    "{missing} hours are missing in {gaps} gaps: see the Impact page.":
        "{missing}時間分の報告が欠けています（{gaps}か所）。環境効果ページをご覧ください。",
    "Every closed hour since reporting started has a report.": "報告開始以来、終了したすべての時間帯に報告があります。",
    "Data for {name} is stale: its latest reported hour ended {age} ago (heartbeat {hb}).":
        "{name} のデータが古くなっています：最新の報告時間帯は{age}前に終了しました（ハートビート{hb}）。",
    "Every figure comes from signed hourly reports on chain. Each report's Merkle root can be checked "
    "against the raw meter readings the operator publishes, one file per facility and day.":
        "すべての数値はチェーン上の署名付き毎時報告に基づきます。各報告のマークルルートは、運営者が施設・日ごとに"
        "公開する計測値ファイルと照合できます。",
    "Check a reading": "計測値を検証する",
    "All figures and charts": "すべての数値とグラフ",
    "Terms, coupons and documents": "条件・利払い・資料",
    # bond page
    "Issuer": "発行体",
    "ISIN": "ISIN",
    "placeholder: the real ISIN is not in our sources": "仮の値：実際の ISIN は出典にありません",
    "Denomination": "額面",
    "Issue date": "発行日",
    "Maturity date": "償還日",
    "Outstanding units": "発行済み口数",
    "of {n} units": "上限 {n} 口",
    "Day count": "日数計算",
    "Coupon schedule": "利払いスケジュール",
    "payment date": "支払日",
    "record date": "基準日",
    "per unit": "1口あたり",
    "total": "総額",
    "fixed at the record date": "基準日に確定",
    "state": "状態",
    "Documents": "資料",
    "Download {name}": "{name} をダウンロード",
    "{name}: the file's keccak256 matches the hash recorded on chain.":
        "{name}：ファイルの keccak256 はチェーン上に記録されたハッシュと一致します。",
    "{name}: the file's hash does not match the chain ({check}).":
        "{name}：ファイルのハッシュがチェーンの記録と一致しません（{check}）。",
    "document": "資料",
    "hash on chain": "チェーン上のハッシュ",
    "hash of the file": "ファイルのハッシュ",
    "check": "照合",
    "matches": "一致",
    "Use of proceeds": "資金使途",
    "facility": "施設",
    "kind": "種類",
    "allocated": "充当額",
    "financed cost": "総調達額",
    "bond's share of its impact": "効果のうち本債券の持分",
    "share of the issue": "発行額に占める割合",
    "active": "稼働中",
    "not financed by this bond": "本債券の資金充当なし",
    "Allocations as recorded on the impact oracle, the version in force now. A facility not financed by this "
    "bond is shown on its own on the Impact page, never in the bond's figures.":
        "インパクトオラクルに記録された現在有効な充当額です。本債券の資金充当がない施設は、環境効果ページで"
        "個別に表示し、本債券の数値には含めません。",
    "Primary offering and secondary trades": "募集と流通取引",
    "No on-chain offering on this chain: the units were issued directly by the agent.":
        "このチェーンにはオンチェーンの募集がありません。口数は代理人が直接発行しました。",
    "Offering {state}: {requested} units requested of {offered} offered at {price} a unit; {settled} units "
    "issued against {cash} paid to the issuer, delivery versus payment per investor.":
        "募集（{state}）：募集 {offered} 口に対し申込 {requested} 口、1口 {price}。{settled} 口を発行し、"
        "発行体に {cash} が支払われました（投資家ごとに DvP 決済）。",
    "Subscriptions": "申込",
    "investor wallet": "投資家ウォレット",
    "requested": "申込口数",
    "allotted": "割当口数",
    "settled": "決済済み",
    "No DvP contract on this chain.": "このチェーンには DvP コントラクトがありません。",
    "No open DvP offers.": "未約定の DvP 注文はありません。",
    "Open DvP offers (units locked in the seller's wallet; cash and units move together on acceptance)":
        "未約定の DvP 注文（口数は売り手のウォレットにロック。約定時に資金と口数が同時に移転）",
    "trade": "取引",
    "seller": "売り手",
    "buyer": "買い手",
    "any eligible buyer": "適格な買い手なら誰でも",
    "units": "口数",
    "price": "価格",
    "expires": "期限",
    "Chain {chain}, block {block} ({time}). Bond at {bond}; impact oracle at {oracle}.":
        "チェーン {chain}、ブロック {block}（{time}）。社債コントラクト {bond}、インパクトオラクル {oracle}。",
    # states
    "active ": "有効",
    "scheduled": "予定",
    "funded": "資金準備済み",
    "paying": "支払中",
    "paid": "支払済み",
    "late": "遅延",
    "matured": "満期到来",
    "redeemed": "償還済み",
    "building": "建物",
    "solar": "太陽光",
    "open": "受付中",
    "closed": "締切",
    "finalized": "確定",
    "cancelled": "中止",
    "DIFFERS": "不一致",
    "file missing": "ファイルなし",
    "not a repository file": "リポジトリ外のファイル",
    "day": "日",
    "month": "月",
    # verify
    "Verify a reading": "計測値の検証",
    "Readings from": "計測値の入手元",
    "the operator's published file": "運営者の公開ファイル",
    "a file I upload": "手元のファイルをアップロード",
    "Day file (JSON, as published: facility-N/YYYY-MM-DD.json)": "日次ファイル（公開形式の JSON：facility-N/YYYY-MM-DD.json）",
    "Upload a published day file to check its first hour against the chain.":
        "公開された日次ファイルをアップロードすると、その最初の時間帯をチェーンと照合します。",
    "Facility": "施設",
    "Hour": "時間帯",
    "Check": "確認範囲",
    "every reading of the hour": "その時間帯のすべての計測値",
    "one reading": "1件の計測値",
    "Reading #": "計測値 #",
    "Tamper with a reading (change its value before checking)": "計測値を改ざんしてみる（照合前に値を変更）",
    "Reading to change #": "変更する計測値 #",
    "New value (Wh)": "新しい値（Wh）",
    "Verified: every one of the {n} readings is under the Merkle root the oracle stores for this hour "
    "(verifyReading returned true).":
        "検証成功：{n}件すべての計測値が、オラクルがこの時間帯について保存しているマークルルートに含まれます"
        "（verifyReading が true を返しました）。",
    "Verified: the reading is under the Merkle root the oracle stores for this hour (verifyReading returned true).":
        "検証成功：この計測値は、オラクルがこの時間帯について保存しているマークルルートに含まれます"
        "（verifyReading が true を返しました）。",
    "Check failed: reading {which} is not under the root on chain.":
        "検証失敗：計測値 {which} はチェーン上のルートに含まれません。",
    "The value was changed here, so the proof no longer leads to the stored root.":
        "ここで値を変更したため、証明は保存されたルートに一致しなくなりました。",
    "Signed by {n} members of signer set v{version} (threshold {threshold}).":
        "署名者セット v{version} の {n} 名が署名しています（必要数 {threshold}）。",
    "The signatures could not be matched to the signer set.": "署名を署名者セットと照合できませんでした。",
    "The file checked": "照合したファイル",
    "Published file `{file}` (sha256 `{sha}`).": "公開ファイル `{file}`（sha256 `{sha}`）。",
    "Download this day file": "この日次ファイルをダウンロード",
    "Uploaded file `{file}` (sha256 `{sha}`).": "アップロードされたファイル `{file}`（sha256 `{sha}`）。",
    "The file is byte for byte the one the operator's index lists.": "このファイルは運営者の索引に載っているものとバイト単位で一致します。",
    "The file differs from the one the operator's index lists.": "このファイルは運営者の索引に載っているものと異なります。",
    "Root the file gives": "ファイルが示すルート",
    "Root of these readings": "これらの計測値から計算したルート",
    "Merkle root on chain": "チェーン上のマークルルート",
    "the same": "一致",
    "DIFFERENT": "不一致",
    "Actual (Wh)": "実績（Wh）",
    "Benchmark (Wh)": "ベンチマーク（Wh）",
    "CO2 avoided (kg)": "CO2削減量（kg）",
    "**Hour:** {hour} · **report** #{index} of facility {facility}{superseded} · methodology v{m}, factor year FY{fy}":
        "**時間帯：** {hour} · 施設 {facility} の**報告** #{index}{superseded} · 算定方法 v{m}、係数年度 FY{fy}",
    " (superseded by a correction)": "（訂正により置き換え済み）",
    "Raw readings": "計測値（生データ）",
    "meter": "メーター",
    "interval start": "計測区間の開始",
    "flags": "フラグ",
    "changed here": "ここで変更",
    "Signers": "署名者",
    "signer (recovered)": "署名者（復元）",
    "in signer set": "署名者セットに含まれる",
    "EIP-712 digest": "EIP-712 ダイジェスト",
    "equals the oracle reportDigest": "オラクルの reportDigest と一致",
    "DIFFERS from the oracle reportDigest": "オラクルの reportDigest と不一致",
    "Transaction": "トランザクション",
    "block": "ブロック",
    # my holding
    "Wallet address": "ウォレットアドレス",
    "Enter a wallet address to see its holding (public data on chain only).":
        "ウォレットアドレスを入力すると保有状況を表示します（チェーン上の公開データのみ）。",
    "Wallet": "ウォレット",
    "registered investor": "登録済み投資家",
    "not registered": "未登録",
    "Units": "口数",
    "of {n} units outstanding": "発行済み {n} 口のうち",
    "Face value": "額面総額",
    "Eligible to hold": "保有資格",
    "Coupons received": "受取済み利金",
    "{on} on chain, {off} paid off chain": "オンチェーン {on}、オフチェーン支払 {off}",
    "Claimable now": "現在請求可能",
    "If the units are still held at the record date ({record}).": "基準日（{record}）に保有している場合。",
    "Redemption: {amount} at par on {date}.": "償還：{date}に額面で {amount}。",
    "{n} coupon(s) are funded, due and unpaid: claim them with claimCoupon or claimAll.":
        "資金準備済みで支払期日を過ぎた未払いの利金が {n} 件あります。claimCoupon または claimAll で請求できます。",
    "This wallet is frozen: it cannot transfer or be paid until an agent unfreezes it.":
        "このウォレットは凍結されています。代理人が凍結を解除するまで移転も支払いもできません。",
    "This holding's part of the bond's impact": "この保有分に帰属する環境効果",
    "Pro rata to the units held now: {units} of {out} units outstanding ({share} of the bond), times the bond's "
    "attributable figures (coverage {coverage}). It attributes the bond's totals to today's holding; it is not a "
    "record of who held the bond in each hour.":
        "現在の保有口数に比例して按分しています：発行済み {out} 口のうち {units} 口（本債券の {share}）× 本債券に帰属する"
        "数値（カバー率 {coverage}）。本債券の累計を現在の保有分に割り当てたもので、各時間帯に誰が保有していたかの"
        "記録ではありません。",
    "Coupons": "利払い",
    "received": "受取済み",
    "paid off chain": "オフチェーンで支払済み",
    "claimable": "請求可能",
    "not yet due": "支払期日前",
    "funded, not yet due": "資金準備済み・期日前",
    "late: not funded": "遅延：資金未準備",
    "nothing owed": "支払対象なし",
    "on chain": "オンチェーン",
    "off chain": "オフチェーン",
    "units at record date": "基準日の口数",
    "amount": "金額",
    "for this wallet": "このウォレット",
    # impact
    "Environmental impact": "環境効果",
    "{percent} ({reported} of {elapsed} reported), {estimated} estimated, {missing} missing":
        "{percent}（{elapsed}中 {reported}報告済み）、推計 {estimated}、欠測 {missing}",
    "Earlier hours are missing too: {coverage}.": "それ以前の時間帯にも欠測があります：{coverage}。",
    "The bond's impact": "本債券の環境効果",
    "its share of each facility it finances (allocated proceeds / the facility's financed cost), from the hourly "
    "reports on chain.":
        "資金充当した各施設の効果のうち本債券の持分（充当額 ÷ 施設の総調達額）。チェーン上の毎時報告に基づきます。",
    "The bond's share over the last 24 hours reported ({start} to {end}): {have} of {want} reported.":
        "直近に報告された24時間（{start}〜{end}）の本債券の持分：{want}中 {have}報告済み。",
    "Covers: the bond's share of {names}; coverage {coverage}.": "対象：{names} の本債券持分。カバー率 {coverage}。",
    "How the bond's share is computed": "本債券の持分の計算方法",
    "- Each facility's hourly figures are exact integers (joules, milligrams of CO2), derived on chain from the "
    "signed meter data.\n- The issuer records, per facility and bond, **allocation versions**: proceeds of the bond "
    "allocated to the facility and the facility's total financed cost, applying from a given hour on. They are "
    "append-only and can only start at an hour not yet reported, so no reported hour changes its share.\n- Per "
    "**allocation period** of the facility, the bond's share is the period's total × allocated proceeds / financed "
    "cost, **truncated toward zero**; the bond's figure is the sum over its facilities and periods (ImpactOracle "
    "`attributedTotals`, `bondTotals`).\n- A facility with no allocation from this bond is tracked and shown on its "
    "own below, and is **not** in the bond's figures.\n- **Coverage** is hours with a report in force / closed "
    "hours since the facility's reporting start; any missing hour can still be reported late, which fills its gap.":
        "- 各施設の毎時の数値は、署名付き計測データからチェーン上で算出した正確な整数（ジュール、CO2 のミリグラム）です。\n"
        "- 発行体は施設・債券ごとに**充当バージョン**（施設に充当した本債券の資金と施設の総調達額、適用開始時刻）を記録します。"
        "追記のみで、まだ報告されていない時間帯からしか適用できないため、報告済みの時間帯の持分が変わることはありません。\n"
        "- 施設の**充当期間**ごとに、期間の合計 × 充当額 ÷ 総調達額を**ゼロ方向に切り捨て**たものが本債券の持分です。"
        "本債券の数値はその施設・期間の合計です（ImpactOracle `attributedTotals`、`bondTotals`）。\n"
        "- 本債券からの充当がない施設は下で個別に表示し、本債券の数値には**含めません**。\n"
        "- **カバー率**は有効な報告のある時間数 ÷ 施設の報告開始以来の終了した時間数です。欠測した時間帯も後から報告でき、"
        "報告されれば欠測は埋まります。",
    "in the bond's figures": "本債券の数値に含む",
    "Hours reported": "報告済み時間",
    "Hours elapsed": "経過時間",
    "Hours estimated": "推計を含む時間",
    "Hours missing": "欠測時間",
    "gaps": "欠測区間",
    "Missing hours ({n} gaps, oldest first; no report on chain for these hours yet)":
        "欠測時間帯（{n}区間、古い順。これらの時間帯の報告はまだチェーン上にありません）",
    "missing from": "欠測開始",
    "missing until": "欠測終了",
    "... and {n} more gaps; the count above includes every one.": "…ほか {n} 区間（上の件数にはすべて含みます）。",
    "No missing hours: every closed hour since each facility's reporting start has a report.":
        "欠測なし：各施設の報告開始以来、終了したすべての時間帯に報告があります。",
    "Last 24 hours: benchmark against actual": "直近24時間：ベンチマークと実績",
    "Each facility's own hourly figures (the whole facility, not the bond's share).":
        "各施設の毎時の数値（施設全体。本債券の持分ではありません）。",
    "actual": "実績",
    "benchmark": "ベンチマーク",
    "No hourly reports yet.": "毎時報告はまだありません。",
    "generation": "発電量",
    "hour": "時刻",
    "Daily and monthly": "日次・月次",
    "Each facility's own figures (the whole facility, not the bond's share); a missing hour adds nothing to its day.":
        "各施設の数値（施設全体。本債券の持分ではありません）。欠測した時間帯はその日の合計に加わりません。",
    "Energy reduction (MJ)": "エネルギー削減量（MJ）",
    "CO2 avoided (t-CO2)": "CO2削減量（t-CO2）",
    "Measure": "指標",
    "Daily": "日次",
    "Monthly": "月次",
    "Per facility": "施設別",
    "Each facility's own figures, and the part attributable to the bond: the facility's figures × its share, per "
    "allocation period, truncated toward zero.":
        "各施設の数値と本債券に帰属する部分（施設の数値 × 持分、充当期間ごと、ゼロ方向に切り捨て）。",
    "reports": "報告数",
    "bond's share (allocated / financed cost)": "本債券の持分（充当額 ÷ 総調達額）",
    "energy since issuance, facility": "発行以来のエネルギー削減量（施設）",
    "energy since issuance, bond's part": "発行以来のエネルギー削減量（本債券分）",
    "CO2 since issuance, facility": "発行以来のCO2削減量（施設）",
    "CO2 since issuance, bond's part": "発行以来のCO2削減量（本債券分）",
    "energy last 24 h, facility": "直近24時間のエネルギー削減量（施設）",
    "energy last 24 h, bond's part": "直近24時間のエネルギー削減量（本債券分）",
    "Methodology and factors": "算定方法と係数",
    "**Version {version}**{in_force}: benchmark model `{model}` v{model_version}, primary energy {pe} MJ/kWh; data "
    "file `{uri}` (keccak256 `{hash}...`), recorded {created}":
        "**バージョン {version}**{in_force}：ベンチマークモデル `{model}` v{model_version}、一次エネルギー換算 {pe} MJ/kWh。"
        "データファイル `{uri}`（keccak256 `{hash}...`）、記録日 {created}",
    " (in force)": "（適用中）",
    "fiscal year": "年度",
    "status": "状態",
    "source": "出典",
    "final": "確定",
    "provisional": "暫定",
    "Data freshness": "データの鮮度",
    "The age of each facility's latest reported hour against the oracle's heartbeat. It says nothing about earlier "
    "hours: when coverage is below 100%, some of them are missing (last column, and Coverage above).":
        "各施設の最新の報告時間帯の経過時間とオラクルのハートビートの比較です。それ以前の時間帯については何も示しません。"
        "カバー率が100%未満なら欠測があります（最終列と上のカバー率を参照）。",
    "latest reported hour": "最新の報告時間帯",
    "age": "経過",
    "heartbeat": "ハートビート",
    "STALE": "古い",
    "fresh": "最新",
    "earlier hours": "それ以前の時間帯",
    "all reported": "すべて報告済み",
    "Download every hour (CSV: actual and benchmark kWh, quality flags, coverage)":
        "全時間帯をダウンロード（CSV：実績とベンチマークの kWh、品質フラグ、カバー状況）",
    "{n} hourly reports in force (each facility's own figures). Times in {tz}. Bond {bond}; chain read at block "
    "{block}.":
        "有効な毎時報告 {n} 件（各施設の数値）。時刻は {tz}。社債 {bond}、ブロック {block} 時点で読み取り。",
}

# a bond or coupon state in words (the bond's "active" shares its English word with a facility's
# "active" column header, hence the separate key above)
STATE_KEYS = {"active": "active "}


class Translator:
    def __init__(self, lang: str):
        self.lang = lang if lang in LANGS else "en"
        self.f = Formats(self.lang)

    def __call__(self, text: str, **values) -> str:
        """The text in the visitor's language, its {placeholders} filled; English is the key."""
        out = JA.get(text, text) if self.lang == "ja" else text
        return out.format(**values) if values else out

    def state(self, word: str) -> str:
        key = STATE_KEYS.get(word, word)
        if self.lang == "ja":
            return JA.get(key, word)
        return word

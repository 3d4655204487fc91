"""Whether an incident must be reported to the PPC (APPI Art. 26(1), PPC Rule 7), whether the
affected people must be told (Art. 26(2)), and who reports when the data was entrusted.

Each of Rule 7's four items is assessed on its own, with its reason and sources in Japanese and
English: one item that applies is enough. A possibility (おそれ) counts as much as a certainty;
an unknown fact is named as open rather than guessed. Data under advanced encryption whose key
is safe is outside every item."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.incidents.facts import CAUSE_LABELS, IncidentFacts

PEOPLE_THRESHOLD = 1_000  # item 4 needs *more* than this


class Citation(BaseModel):
    """A source: the law, rule or guideline section, in Japanese and English."""

    model_config = ConfigDict(frozen=True)

    ja: str
    en: str


GUIDELINE_JA = "個人情報保護法ガイドライン（通則編）"
GUIDELINE_EN = "PPC General Guidelines (通則編)"


def guideline(section: str, note: str = "") -> Citation:
    return Citation(ja=f"{GUIDELINE_JA}{section}{note}", en=f"{GUIDELINE_EN} {section}{note}")


def ppc_rule(article: int, rest_ja: str = "", rest_en: str = "") -> Citation:
    return Citation(
        ja=f"個人情報保護委員会規則第{article}条{rest_ja}",
        en=f"PPC Rules Art. {article}{rest_en}",
    )


APPI_26_1 = Citation(ja="個人情報保護法第26条第1項", en="APPI Art. 26(1)")
APPI_26_1_PROVISO = Citation(ja="個人情報保護法第26条第1項ただし書", en="APPI Art. 26(1), proviso")
APPI_26_2 = Citation(ja="個人情報保護法第26条第2項", en="APPI Art. 26(2)")
RULE_7_ENCRYPTION = ppc_rule(
    7,
    "第1号括弧書（高度な暗号化等。各号に共通）",
    "(i), parenthesis (advanced encryption; every item)",
)
RULE_8_1 = ppc_rule(8, "第1項", "(1)")
RULE_8_2 = ppc_rule(8, "第2項", "(2)")
RULE_9 = ppc_rule(9)
GL_REPORTABLE = guideline("3-5-3-1")
GL_WHO_REPORTS = guideline("3-5-3-2")
GL_PRELIMINARY = guideline("3-5-3-3")
GL_FINAL = guideline("3-5-3-4")
GL_CONTRACTOR = guideline("3-5-3-5")
GL_NOTIFY = guideline("3-5-4-1")


class Status(StrEnum):
    APPLIES = "applies"
    DOES_NOT_APPLY = "does_not_apply"
    UNKNOWN = "unknown"  # a fact is still open
    EXEMPT = "exempt"  # advanced encryption


class Verdict(StrEnum):
    REQUIRED = "required"
    NOT_REQUIRED = "not_required"
    UNDETERMINED = "undetermined"  # no item applies yet, but some fact is open


class Assessment(BaseModel):
    """One item of PPC Rule 7 for this incident."""

    model_config = ConfigDict(frozen=True)

    item: int  # 1-4
    key: str
    title_ja: str
    title_en: str
    status: Status
    reason_ja: str
    reason_en: str
    sources: tuple[Citation, ...]


class Note(BaseModel):
    """A duty or a point to know, with whether it applies (None: depends on open facts)."""

    model_config = ConfigDict(frozen=True)

    applies: bool | None
    text_ja: str
    text_en: str
    sources: tuple[Citation, ...]


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    summary_ja: str
    summary_en: str
    items: tuple[Assessment, ...]  # all four, in the rule's order
    notify_individuals: Note
    contractor: Note | None  # only for an incident at a contractor

    @property
    def applicable(self) -> tuple[Assessment, ...]:
        """The items that apply, each with its reason and sources."""
        return tuple(a for a in self.items if a.status is Status.APPLIES)

    @property
    def open_items(self) -> tuple[Assessment, ...]:
        return tuple(a for a in self.items if a.status is Status.UNKNOWN)

    @property
    def improper_purpose(self) -> bool | None:
        """Whether item 3 applies (it sets the final report's 60 days); None while open."""
        status = self.items[2].status
        return None if status is Status.UNKNOWN else status is Status.APPLIES


TITLES = {
    1: ("要配慮個人情報", "sensitive personal information"),
    2: ("財産的被害のおそれ", "possible financial damage"),
    3: ("不正の目的による行為", "an act with an improper purpose"),
    4: ("本人の数が1,000人超", "more than 1,000 people"),
}
KEYS = {1: "sensitive", 2: "financial_damage", 3: "improper_purpose", 4: "over_1000_people"}


def decide(facts: IncidentFacts) -> Decision:
    """Assess the four items and derive the duties from them."""
    if facts.encrypted:
        items = tuple(_exempt(n) for n in range(1, 5))
    else:
        items = (_sensitive(facts), _financial(facts), _improper(facts), _people(facts))
    verdict = _verdict(items)
    return Decision(
        verdict=verdict,
        summary_ja=_summary_ja(verdict, items, facts.encrypted),
        summary_en=_summary_en(verdict, items, facts.encrypted),
        items=items,
        notify_individuals=_notify(verdict, facts.contractor is not None),
        contractor=_contractor(facts.contractor) if facts.contractor is not None else None,
    )


def _assessment(item: int, status: Status, ja: str, en: str) -> Assessment:
    title_ja, title_en = TITLES[item]
    return Assessment(
        item=item,
        key=KEYS[item],
        title_ja=title_ja,
        title_en=title_en,
        status=status,
        reason_ja=ja,
        reason_en=en,
        sources=(ppc_rule(7, f"第{item}号", f"({_roman(item)})"), GL_REPORTABLE, APPI_26_1),
    )


def _roman(n: int) -> str:
    return ("i", "ii", "iii", "iv")[n - 1]


def _status(flag: bool | None) -> Status:
    if flag is None:
        return Status.UNKNOWN
    return Status.APPLIES if flag else Status.DOES_NOT_APPLY


def _sensitive(facts: IncidentFacts) -> Assessment:
    status = _status(facts.sensitive)
    texts = {
        Status.APPLIES: (
            "要配慮個人情報（病歴や健康診断の結果など）が含まれる、又は含まれるおそれがあります。人数にかかわらず、これだけで報告対象です。",
            "Sensitive personal information (such as medical history or health-check results) "
            "is or may be involved. That alone makes the incident reportable, however few "
            "people are affected.",
        ),
        Status.DOES_NOT_APPLY: (
            "要配慮個人情報は含まれていません。",
            "No sensitive personal information is involved.",
        ),
        Status.UNKNOWN: (
            "要配慮個人情報が含まれるかどうか、まだ確認できていません。含まれるおそれがあるだけでも該当します。",
            "It is not yet known whether sensitive personal information is involved; the mere "
            "possibility would be enough for this item.",
        ),
    }
    return _assessment(1, status, *texts[status])


def _financial(facts: IncidentFacts) -> Assessment:
    status = _status(facts.financial_damage)
    texts = {
        Status.APPLIES: (
            "悪用されると財産的な被害につながりうるデータ（クレジットカード番号、送金や決済ができるサービスのIDとパスワードなど）が含まれる、又は含まれるおそれがあります。",
            "Data that could be misused to cause financial damage (card numbers, or the log-in "
            "of a service that can pay or send money) is or may be involved.",
        ),
        Status.DOES_NOT_APPLY: (
            "財産的な被害につながるデータは含まれていません。",
            "No data that could be misused for financial damage is involved.",
        ),
        Status.UNKNOWN: (
            "カード番号や決済サービスのログイン情報など、財産的な被害につながるデータが含まれるかどうか、まだ確認できていません。",
            "It is not yet known whether data usable for financial damage (card numbers, "
            "payment log-ins) is involved.",
        ),
    }
    return _assessment(2, status, *texts[status])


def _improper(facts: IncidentFacts) -> Assessment:
    status = _status(facts.improper_purpose)
    cause_ja, cause_en = ("", "")
    if facts.improper_cause is not None:
        label_ja, label_en = CAUSE_LABELS[facts.improper_cause]
        cause_ja, cause_en = f"（{label_ja}）", f" ({label_en})"
    target_ja = "行為の標的が当社の委託先や当社が使うサービスの提供者であっても該当し、委託先への攻撃も含まれます。"
    target_en = (
        "It counts even when the act was aimed at our contractor or at a service provider we "
        "use, so an attack on the contractor is covered."
    )
    texts = {
        Status.APPLIES: (
            f"不正な目的による行為{cause_ja}が原因である、又はそのおそれがあります。{target_ja}",
            f"An act with an improper purpose{cause_en} caused it or may have. {target_en}",
        ),
        Status.DOES_NOT_APPLY: (
            "不正アクセス、ランサムウェア、盗難、従業者の持ち出しなど、不正な目的による行為が原因ではありません（誤送付や紛失など）。",
            "No act with an improper purpose (unauthorised access, ransomware, theft, an "
            "insider taking data out) is behind it; for example a mis-sent mail or a lost item.",
        ),
        Status.UNKNOWN: (
            f"不正な目的による行為が原因かどうか、まだ分かっていません。そのおそれがあれば該当し、確報の期限は60日になります。{target_ja}",
            "It is not yet known whether an act with an improper purpose is behind it. If it "
            f"may be, this item applies and the final report is due in 60 days. {target_en}",
        ),
    }
    return _assessment(3, status, *texts[status])


def _people(facts: IncidentFacts) -> Assessment:
    n = facts.people
    if n is None:
        return _assessment(
            4,
            Status.UNKNOWN,
            "本人の数がまだ分かっていません。確定しないときは、ありうる最大の数で判断します。",
            "The number of people is not known yet. While it is uncertain, the possible "
            "maximum is what counts.",
        )
    max_ja = "（最大の見込み）" if facts.people_is_maximum else ""
    max_en = " (possible maximum)" if facts.people_is_maximum else ""
    if n > PEOPLE_THRESHOLD:
        return _assessment(
            4,
            Status.APPLIES,
            f"本人の数は{n:,}人{max_ja}で、1,000人を超えます。",
            f"{n:,} people{max_en}: more than 1,000.",
        )
    return _assessment(
        4,
        Status.DOES_NOT_APPLY,
        f"本人の数は{n:,}人{max_ja}で、1,000人を超えません（ちょうど1,000人は該当しません）。"
        "人数が増えて1,000人を超えれば該当します。",
        f"{n:,} people{max_en}: not more than 1,000 (exactly 1,000 does not count). Should "
        "the number grow past 1,000, the item applies.",
    )


def _exempt(item: int) -> Assessment:
    title_ja, title_en = TITLES[item]
    return Assessment(
        item=item,
        key=KEYS[item],
        title_ja=title_ja,
        title_en=title_en,
        status=Status.EXEMPT,
        reason_ja="対象のデータには高度な暗号化が施され、鍵も漏えいしていないため、この号の対象から外れます。",
        reason_en="The data concerned had advanced encryption and the key was not "
        "compromised, so it falls outside this item.",
        sources=(RULE_7_ENCRYPTION, GL_REPORTABLE),
    )


def _verdict(items: tuple[Assessment, ...]) -> Verdict:
    statuses = {a.status for a in items}
    if Status.APPLIES in statuses:
        return Verdict.REQUIRED
    if Status.UNKNOWN in statuses:
        return Verdict.UNDETERMINED
    return Verdict.NOT_REQUIRED


def _numbers(items: tuple[Assessment, ...], status: Status, sep: str) -> str:
    return sep.join(str(a.item) for a in items if a.status is status)


def _summary_ja(verdict: Verdict, items: tuple[Assessment, ...], encrypted: bool) -> str:
    if verdict is Verdict.REQUIRED:
        return (
            "個人情報保護委員会への報告が必要です"
            f"（個人情報保護委員会規則第7条第{_numbers(items, Status.APPLIES, '号・第')}号に該当）。"
        )
    if verdict is Verdict.UNDETERMINED:
        return (
            "今のところ該当する号はありませんが、"
            f"第{_numbers(items, Status.UNKNOWN, '号・第')}号の判断に必要な事実が未確認のため、"
            "報告の要否はまだ決まりません。確認を急いでください。"
        )
    if encrypted:
        return (
            "高度な暗号化が施され鍵も安全なため、委員会への報告は不要です。"
            "鍵の漏えいが分かった場合は判断し直してください。"
        )
    return "個人情報保護委員会規則第7条のどの号にも該当しないため、委員会への報告義務はありません。"


def _summary_en(verdict: Verdict, items: tuple[Assessment, ...], encrypted: bool) -> str:
    if verdict is Verdict.REQUIRED:
        return (
            "A report to the PPC is required "
            f"(PPC Rules Art. 7, item {_numbers(items, Status.APPLIES, ', ')})."
        )
    if verdict is Verdict.UNDETERMINED:
        return (
            "No item applies so far, but the facts for item "
            f"{_numbers(items, Status.UNKNOWN, ', ')} are still open, so whether a report is "
            "required is not settled yet. Establish them quickly."
        )
    if encrypted:
        return (
            "No report to the PPC is required: the data had advanced encryption and the key is "
            "safe. Decide again if the key turns out to be compromised."
        )
    return "No item of PPC Rules Art. 7 applies, so there is no duty to report to the PPC."


def _notify(verdict: Verdict, at_contractor: bool) -> Note:
    by_us_ja = "委託先が当社に通知した場合、本人への通知は当社が行います。" if at_contractor else ""
    by_us_en = (
        " When the contractor has notified us, we are the ones who tell the people."
        if at_contractor
        else ""
    )
    if verdict is Verdict.REQUIRED:
        return Note(
            applies=True,
            text_ja="報告が必要な事態なので、影響を受ける本人にも通知しなければなりません。"
            "通知が難しい場合は、本人の権利利益を守るための代わりの措置をとります。" + by_us_ja,
            text_en="Because the incident must be reported, the people affected must also be "
            "told. Where telling them is difficult, take another measure that protects their "
            "rights instead." + by_us_en,
            sources=(APPI_26_2, GL_NOTIFY),
        )
    if verdict is Verdict.UNDETERMINED:
        return Note(
            applies=None,
            text_ja="報告が必要と分かれば、本人への通知も必要になります。" + by_us_ja,
            text_en="If the incident turns out to be reportable, the people affected must be "
            "told as well." + by_us_en,
            sources=(APPI_26_2, GL_NOTIFY),
        )
    return Note(
        applies=False,
        text_ja="報告が必要な事態ではないため、法に基づく本人への通知義務もありません。",
        text_en="As the incident is not reportable, the law does not require telling the "
        "people affected either.",
        sources=(APPI_26_2,),
    )


def _contractor(name: str) -> Note:
    return Note(
        applies=True,
        text_ja=(
            f"委託先（{name}）で起きた事態です。原則として委託元の当社と委託先の双方に報告義務があり、"
            "連名で報告することもできます。委託先が当社に速やかに（委託先が知ってから概ね3～5日以内に）"
            "通知すれば、委託先は委員会への報告と本人への通知を免除され、当社が報告します。"
            "当社の発覚日は、遅くとも委託先から通知を受けた日です。"
        ),
        text_en=(
            f"It happened at a contractor ({name}). In principle both we, the principal, and "
            "the contractor must report, and may file one joint report. A contractor that "
            "notifies us promptly (about 3-5 days after it learned) is excused from reporting "
            "to the PPC and from telling the people; we then report. We learned of it, at the "
            "latest, on the day the contractor told us."
        ),
        sources=(APPI_26_1_PROVISO, RULE_9, GL_WHO_REPORTS, GL_CONTRACTOR, GL_NOTIFY),
    )

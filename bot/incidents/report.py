"""A draft of the report to the PPC (漏えい等報告): the decision and deadlines first, then the
nine items PPC Rule 8(1) requires (通則編 3-5-3-3), filled from the facts where they are known
and marked 【要記入】 where someone must write them. As Markdown, and as .docx through the
drafting package's renderer, ready to be copied into the PPC's web form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.drafting.docx_render import Section, sections_to_docx
from bot.drafting.nda import md_escape
from bot.drafting.service import DraftFiles, safe_name
from bot.incidents.deadlines import Deadlines, Kind, deadlines_for, weekday_ja
from bot.incidents.facts import CAUSE_LABELS, IncidentFacts
from bot.incidents.rules import Decision, Status, decide
from bot.knowledge.text import strip_control

TODO = "【要記入】"
TITLE = "個人情報の漏えい等に関する報告（下書き）"
NOTICE = (
    "Itakuが入力された事実から作成した下書きです。【要記入】の箇所を埋め、内容を確かめてから、"
    "個人情報保護委員会の報告フォームに転記してください。速報では、その時点で分かっていることを書けば足ります。"
)
# The nine items of PPC Rule 8(1), in order (通則編 3-5-3-3).
ITEMS: tuple[tuple[str, str], ...] = (
    ("概要", "Overview"),
    (
        "漏えい等が発生し又は発生したおそれがある個人データの項目",
        "Items of personal data concerned",
    ),
    ("本人の数", "Number of people"),
    ("原因", "Cause"),
    ("二次被害又はそのおそれの有無及びその内容", "Secondary harm, actual or possible"),
    ("本人への対応の実施状況", "Measures taken for the people affected"),
    ("公表の実施状況", "Public announcement"),
    ("再発防止のための措置", "Measures against recurrence"),
    ("その他参考となる事項", "Other useful information"),
)
STATUS_JA = {
    Status.APPLIES: "該当",
    Status.DOES_NOT_APPLY: "非該当",
    Status.UNKNOWN: "未確認",
    Status.EXEMPT: "対象外（高度な暗号化）",
}


@dataclass(frozen=True)
class ReportItem:
    number: int  # 1-9
    title: str
    lines: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not any(TODO in line for line in self.lines)


@dataclass(frozen=True)
class ReportDraft:
    title: str
    notice: str
    decision: Decision
    deadlines: Deadlines
    assessment: tuple[str, ...]  # the decision and deadlines, one line each
    items: tuple[ReportItem, ...]  # the nine required items


def build_report(facts: IncidentFacts) -> ReportDraft:
    decision = decide(facts)
    deadlines = deadlines_for(facts, decision)
    return ReportDraft(
        title=TITLE,
        notice=NOTICE,
        decision=decision,
        deadlines=deadlines,
        assessment=_assessment(decision, deadlines),
        items=_items(facts, decision),
    )


# -- the decision and the deadlines ------------------------------------------------------------


def jdate(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（{weekday_ja(day)}）"


def _assessment(decision: Decision, deadlines: Deadlines) -> tuple[str, ...]:
    lines = [f"報告の要否：{decision.summary_ja}"]
    for a in decision.items:
        lines.append(f"規則第7条第{a.item}号（{a.title_ja}）：{STATUS_JA[a.status]}。{a.reason_ja}")
    pre = deadlines.get(Kind.PRELIMINARY)
    final = deadlines.final
    assert pre.window_start is not None
    scope = "" if pre.applies else f"（{pre.why_not_ja}。報告が必要な場合）"
    lines.append(
        f"速報：速やかに。目安は{jdate(pre.window_start)}～{jdate(pre.due)}（発覚日を1日目として3～5日目）{scope}"
    )
    moved = (
        f"。{final.days}日目の{jdate(final.nominal)}は{final.moved_over[0].reason_ja}のため翌開庁日"
        if final.moved_over
        else ""
    )
    scope = "" if final.applies else f"（{final.why_not_ja}）"
    lines.append(f"確報：{jdate(final.due)}まで（{final.days}日以内{moved}）{scope}")
    other = deadlines.get(Kind.FINAL_IMPROPER if final.kind is Kind.FINAL else Kind.FINAL)
    if other.applies is None:
        lines.append(f"　第3号に該当する場合の確報：{jdate(other.due)}まで（{other.days}日以内）")
    lines.append(f"本人への通知：{decision.notify_individuals.text_ja}")
    if decision.contractor is not None:
        lines.append(f"委託先での発生：{decision.contractor.text_ja}")
    sources = dict.fromkeys(
        c.ja
        for c in (
            *(c for a in decision.items for c in a.sources),
            *decision.notify_individuals.sources,
            *(decision.contractor.sources if decision.contractor else ()),
            *(c for d in deadlines.items for c in d.sources),
        )
    )
    lines.append("根拠：" + "、".join(sources))
    return tuple(lines)


# -- the nine items ----------------------------------------------------------------------------


def _text(value: str | None) -> str:
    """A free-text fact on one line, or the mark to fill it in."""
    if value is None:
        return TODO
    joined = ""
    for line in filter(None, (" ".join(ln.split()) for ln in strip_control(value).splitlines())):
        joined += line if not joined or joined.endswith(("。", "、", "．", "，")) else f"　{line}"
    return joined or TODO


def _yes_no(flag: bool | None, yes: str, no: str) -> str:
    return TODO if flag is None else yes if flag else no


def _items(facts: IncidentFacts, decision: Decision) -> tuple[ReportItem, ...]:
    where = f"委託先（{_text(facts.contractor)}）" if facts.contractor else "当社"
    applicable = "・".join(f"第{a.item}号" for a in decision.applicable)
    open_items = "・".join(f"第{a.item}号" for a in decision.open_items)
    rule7 = (applicable or "該当なし") + (f"（{open_items}は未確認：{TODO}）" if open_items else "")
    overview = (
        f"発生日：{jdate(facts.occurred_on) if facts.occurred_on else TODO}",
        f"発覚日：{jdate(facts.learned_on)}（当社のいずれかの部署が知った日）",
        f"発生した事案：{_text(facts.what_happened)}",
        f"発見者：{TODO}",
        f"規則第7条各号への該当：{rule7}",
        "委託元・委託先："
        + (
            f"当社が委託元、{where}で発生"
            if facts.contractor
            else "当社で発生（委託先の関与は入力されていません）"
        ),
        f"事実経過：{TODO}",
    )
    kinds = "、".join(_text(k) for k in facts.data_kinds) or TODO
    data = (
        f"項目：{kinds}",
        f"媒体・種類（顧客情報・従業員情報の別など）：{TODO}",
        "要配慮個人情報：" + _yes_no(facts.sensitive, "含まれる（おそれを含む）", "含まれない"),
        "財産的被害につながるデータ："
        + _yes_no(facts.financial_damage, "含まれる（おそれを含む）", "含まれない"),
    )
    if facts.people is None:
        people: tuple[str, ...] = (f"{TODO}（確定しない場合は、ありうる最大の数）",)
    else:
        maximum = "（最大の見込み。確定していない）" if facts.people_is_maximum else ""
        people = (f"{facts.people:,}人{maximum}",)
    if facts.improper_purpose is None:
        act = f"不正の目的による行為の有無：{TODO}"
    elif facts.improper_purpose:
        label = CAUSE_LABELS[facts.improper_cause][0] if facts.improper_cause else TODO
        act = f"不正の目的による行為（おそれを含む）：{label}"
    else:
        act = "不正の目的による行為：なし"
    cause = (f"発生した主体：{where}", act, f"詳細：{TODO}")
    harm = (
        "財産的被害のおそれ："
        + _yes_no(facts.financial_damage, "あり（カード番号・決済用の認証情報など）", "なし"),
        f"二次被害の有無と内容：{TODO}",
    )
    response = (
        f"本人への通知・問い合わせ窓口などの実施状況：{TODO}",
        f"（{decision.notify_individuals.text_ja}）",
    )
    announcement = (f"公表の有無・日付・方法：{TODO}",)
    prevention = (f"実施済みの措置：{TODO}", f"今後実施する措置：{TODO}")
    encryption = (
        "高度な暗号化：施されており、鍵も漏えいしていない"
        if facts.encrypted
        else "高度な暗号化：施されていない（又は未確認）"
    )
    other = (
        encryption,
        *((f"委託先との関係：{decision.contractor.text_ja}",) if decision.contractor else ()),
        f"その他：{TODO}",
    )
    bodies = (overview, data, people, cause, harm, response, announcement, prevention, other)
    return tuple(
        ReportItem(number=n, title=title, lines=body)
        for n, ((title, _en), body) in enumerate(zip(ITEMS, bodies, strict=True), start=1)
    )


# -- rendering ---------------------------------------------------------------------------------


def heading(item: ReportItem) -> str:
    return f"（{item.number}）{item.title}"


def to_markdown(draft: ReportDraft) -> str:
    out = [f"# {md_escape(draft.title)}", "", f"> {md_escape(draft.notice)}", ""]
    out += ["## 報告の要否と期限", ""]
    out += [f"- {md_escape(line.strip())}" for line in draft.assessment]
    out += ["", "## 報告事項（個人情報保護委員会規則第8条第1項）", ""]
    for item in draft.items:
        out += [f"### {md_escape(heading(item))}", ""]
        out += [f"- {md_escape(line)}" for line in item.lines]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def to_docx(draft: ReportDraft) -> bytes:
    sections = [Section("報告の要否と期限", draft.assessment)]
    sections += [Section(heading(item), item.lines) for item in draft.items]
    return sections_to_docx(draft.title, draft.notice, sections)


def report_files(facts: IncidentFacts) -> DraftFiles:
    """The draft as the files every platform hands over (Markdown and .docx)."""
    draft = build_report(facts)
    who = safe_name(facts.contractor) if facts.contractor else "社内"
    final = draft.deadlines.final
    return DraftFiles(
        title=draft.title,
        basename=f"漏えい等報告_{who}_{facts.learned_on.isoformat()}",
        markdown=to_markdown(draft),
        docx=to_docx(draft),
        summary=(
            ("報告の要否", draft.decision.summary_ja),
            ("発覚日", jdate(facts.learned_on)),
            ("確報の期限", jdate(final.due)),
            (
                "要記入の項目",
                "、".join(heading(i) for i in draft.items if not i.complete) or "なし",
            ),
        ),
        notice=draft.notice,
    )

"""The NDA (秘密保持契約書) built from the clause templates, chosen and varied by the dialog's
answers, numbered consecutively, and rendered as Markdown.

Roles: a one-way NDA names the discloser 甲 and the recipient 乙 throughout. A mutual NDA keeps 甲
and 乙 as the parties (preamble, signatures) and writes the articles with 開示者 / 受領者, which
the purpose article defines so that each party is both. Cross-references between articles are
``{{article:トピック}}`` in the templates and become the final article numbers here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.drafting.clauses import FORBIDDEN_TEXT, ClauseError, ClauseLibrary
from bot.drafting.nda_fields import DISPOSAL, EXCLUSIONS, NdaAnswers
from bot.knowledge.text import strip_control

TITLE = "秘密保持契約書"
NOTICE = (
    "この秘密保持契約書は、Itakuが条項テンプレートから作成した、法務部門のレビュー前のドラフトです。"
    "そのまま締結せず、法務部門が内容を確認し、取引に合わせて修正してから使ってください。"
)
ONE_WAY_ROLES = ("甲", "乙")
MUTUAL_ROLES = ("開示者", "受領者")
DESTRUCTION = tuple(k for k in DISPOSAL if k != "return")  # methods that destroy the information
_DEFAULT_CONTACT = "甲の情報セキュリティ担当部門"
_MUTUAL_CONTACT = "開示者の情報セキュリティ担当部門"
_CHOICE_TAG = re.compile(r"（案[A-ZＡ-Ｚ]）$")
_MD_SPECIAL = re.compile(r"([\\`*_#\[\]<>|~&])")
_MD_LINE_START = re.compile(r"^(\s*)([0-9]+)([.)])|^(\s*)([-+=])")


@dataclass(frozen=True)
class Article:
    number: int
    heading: str
    paragraphs: tuple[str, ...]  # plain text; numbered paragraphs and items carry their numbers


@dataclass(frozen=True)
class NdaDraft:
    title: str
    preamble: str
    articles: tuple[Article, ...]
    closing: tuple[str, ...]  # 本契約締結の証として… and the signature lines of both parties
    summary: tuple[tuple[str, str], ...]  # (label, chosen option in words) for every answer
    notice: str  # this is a draft for legal review


@dataclass(frozen=True)
class _Part:
    """One clause of the contract: which template, which variant, which values."""

    topic: str
    variant: str = "default"
    values: dict[str, str] = field(default_factory=dict)


def build_nda(answers: NdaAnswers, library: ClauseLibrary) -> NdaDraft:
    """The draft for these answers. Raises ClauseError when a template is missing or broken."""
    roles = MUTUAL_ROLES if answers.direction == "mutual" else ONE_WAY_ROLES
    parts = _article_parts(answers)
    numbers = {_canonical(library, p.topic): n for n, p in enumerate(parts, start=1)}
    articles = []
    for number, part in enumerate(parts, start=1):
        filled = library.fill(part.topic, part.values, part.variant, roles, article_numbers=numbers)
        articles.append(Article(number, filled.template.heading, filled.paragraphs))
    parties = _parties(answers)
    preamble = library.fill(
        "前文",
        {**parties, "purpose": _purpose(answers.purpose)},
        "mutual" if answers.direction == "mutual" else "default",
    )
    closing = library.fill("署名欄", parties)
    draft = NdaDraft(
        title=TITLE,
        preamble=preamble.text,
        articles=tuple(articles),
        closing=closing.paragraphs,
        summary=summarize(answers),
        notice=NOTICE,
    )
    _check_draft(draft)
    return draft


def _canonical(library: ClauseLibrary, topic: str) -> str:
    template = library.find(topic)
    if template is None:
        raise ClauseError(f"秘密保持契約書に必要な条項テンプレート「{topic}」がありません。")
    return template.topic


# -- which articles, in which variant --------------------------------------------------------


def _article_parts(a: NdaAnswers) -> list[_Part]:
    pd = _yes(a.personal_data)
    parts = [
        _Part("目的", "mutual" if a.direction == "mutual" else "default"),
        _Part(
            "秘密情報の定義",
            "marked" if a.definition == "marked" else "default",
            {"personal_data": pd},
        ),
    ]
    if a.exclusions:
        flags = {key: _yes(key in a.exclusions) for key in EXCLUSIONS}
        parts.append(_Part("秘密情報の除外", values={**flags, "personal_data": pd}))
    parts += [_Part("法令に基づく開示"), _Part("秘密保持"), _Part("目的外利用の禁止")]
    parts.append(_handlers(a))
    if a.storage != "unspecified":
        parts.append(_Part("記録媒体", "default" if a.storage == "locked_with_admin" else "locked"))
    parts.append(_Part("複製", {"prior_consent": "default"}.get(a.copying, a.copying)))
    parts.append(_Part("再委託", "strict" if a.third_party == "prohibited" else "default"))
    if a.personal_data:
        parts.append(_personal_data(a))
    if a.audit:
        parts.append(_Part("監査"))
    parts.append(_breach(a))
    parts += _return_and_disposal(a)
    if a.damages:
        parts.append(_Part("損害賠償"))
    if a.injunction:
        parts.append(_Part("差止め"))
    parts.append(_term(a))
    parts += [_Part("協議"), _Part("合意管轄", values={"court": _plain(a.court)})]
    return parts


def _handlers(a: NdaAnswers) -> _Part:
    if a.handlers_scope == "need_to_know":
        return _Part("取扱者")
    values = {"max_handlers": str(a.max_handlers or ""), "names": _plain(a.handler_names or "")}
    return _Part("取扱者", "named", values)


def _personal_data(a: NdaAnswers) -> _Part:
    count = f"{a.personal_data_count:,}" if a.personal_data_count else ""
    values = {
        "items": _plain(a.personal_data_items or ""),
        "count": count,
        "my_number": _yes(a.my_number),
        "subcontracting": _yes(a.third_party != "prohibited"),
    }
    return _Part("個人情報の取扱い", values=values)


def _breach(a: NdaAnswers) -> _Part:
    contact = _plain(a.breach_contact)
    if a.direction == "mutual" and contact == _DEFAULT_CONTACT:
        contact = _MUTUAL_CONTACT  # in a mutual NDA either party may be the one reporting
    values = {
        "hours": str(a.breach_report_hours),
        "contact": contact,
        "personal_data": _yes(a.personal_data),
    }
    return _Part("事故報告", values=values)


def _return_and_disposal(a: NdaAnswers) -> list[_Part]:
    returns = "return" in a.disposal
    destroys = any(k in a.disposal for k in DESTRUCTION)
    parts: list[_Part] = []
    if returns:
        parts.append(_Part("返還", "default" if destroys else "return_only"))
    if destroys:
        values = {k: _yes(k in a.disposal) for k in DESTRUCTION}
        values["certificate"] = _yes(a.disposal_certificate)
        parts.append(_Part("廃棄", "default" if returns else "on_end", values))
    return parts


def _term(a: NdaAnswers) -> _Part:
    values = {
        "effective_date": japanese_date(a.effective_date),
        "term_years": str(a.term_years),
        "survival_years": str(a.survival_years),
        "personal_data": _yes(a.personal_data),
    }
    return _Part("有効期間", values=values)


def _parties(a: NdaAnswers) -> dict[str, str]:
    return {"party_a": _plain(a.disclosing_party), "party_b": _plain(a.receiving_party)}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def japanese_date(day: dt.date) -> str:
    """2027-01-01 -> 2027年1月1日"""
    return f"{day.year}年{day.month}月{day.day}日"


def _plain(text: str) -> str:
    """A free-text answer as one line of contract text: control characters removed, lines
    joined, braces made full-width so that no value can look like a placeholder."""
    lines = [" ".join(ln.split()) for ln in strip_control(text).splitlines()]
    joined = ""
    for line in filter(None, lines):
        if joined and not joined.endswith(("。", "、", "，", ",")):
            joined += "、"
        joined += line
    return joined.replace("{", "｛").replace("}", "｝")


def _purpose(text: str) -> str:
    return _plain(text).rstrip("。. ")


def _check_draft(draft: NdaDraft) -> None:
    texts = [draft.preamble, *draft.closing]
    texts += [p for art in draft.articles for p in (art.heading, *art.paragraphs)]
    for text in texts:
        for bad in FORBIDDEN_TEXT:
            if bad in text:
                raise ClauseError(f"秘密保持契約書に「{bad}」が残りました：{text[:40]}")


# -- summary ---------------------------------------------------------------------------------


def summarize(answers: NdaAnswers) -> tuple[tuple[str, str], ...]:
    """(label, chosen option in words) for every answer, in the dialog's order."""
    rows = []
    for name, info in NdaAnswers.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        label = str(extra.get("label", name))
        options = extra.get("options")
        value = getattr(answers, name)
        rows.append((label, _in_words(value, options if isinstance(options, dict) else None)))
    return tuple(rows)


def _in_words(value: object, options: Mapping[str, object] | None) -> str:
    if options is not None and isinstance(value, list):
        return "、".join(_option(options, v) for v in value) or "なし"
    if options is not None and isinstance(value, str):
        return _option(options, value)
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dt.date):
        return japanese_date(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value is None or value == "":
        return "指定なし"
    return _plain(str(value))


def _option(options: Mapping[str, object], key: str) -> str:
    return _CHOICE_TAG.sub("", str(options.get(key, key)))


# -- Markdown --------------------------------------------------------------------------------


def to_markdown(draft: NdaDraft) -> str:
    """The draft as Markdown: title, the notice as a blockquote, preamble, articles with bold
    headings, closing. All text is escaped, so a value such as ``*A*`` stays literal."""
    out = [f"# {md_escape(draft.title)}", "", f"> {md_escape(draft.notice)}", ""]
    out += [md_escape(draft.preamble), ""]
    for art in draft.articles:
        out += [f"**第{art.number}条（{md_escape(art.heading)}）**", ""]
        for paragraph in art.paragraphs:
            out += [md_escape(paragraph), ""]
    for line in draft.closing:
        out += [md_escape(line), ""]
    return "\n".join(out).rstrip() + "\n"


def md_escape(text: str) -> str:
    """Backslash-escape Markdown metacharacters, and markers that would start a list or
    heading at the beginning of a line."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    return "\n".join(_escape_line_start(line) for line in escaped.split("\n"))


def _escape_line_start(line: str) -> str:
    m = _MD_LINE_START.match(line)
    if m is None:
        return line
    if m.group(2) is not None:
        return f"{m.group(1)}{m.group(2)}\\{m.group(3)}{line[m.end() :]}"
    return f"{m.group(4)}\\{m.group(5)}{line[m.end() :]}"

"""A breach report's deadline worked out for the day a question gives.

「12月28日に委託先への不正アクセスを把握した。確報はいつまで？」 asks for a date, not for the rule:
the answer opens with the date, counted as the rule says (the day of learning is day 1, a final
deadline on a closed day moves to the next business day: bot/incidents/deadlines.py, the same
arithmetic as `/incident` and `itaku incidents deadline`), and then states the rule with its source.
A day without a year is taken as its latest occurrence up to today, and the answer names the year
it assumed. Whether the 60-day deadline applies (an improper purpose, Rule 7 item 3) is read from
the question's words; when they do not say, both dates are given."""

from __future__ import annotations

import datetime as dt
import re

from bot.incidents.deadlines import (
    Deadline,
    Deadlines,
    Kind,
    compute_deadlines,
    today_in_japan,
    weekday_ja,
)
from bot.knowledge.query import split_context
from bot.knowledge.text import normalize

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DATE_JA = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")
_DATE_ISO = re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b")
# a month's name or its abbreviation, whole ("marketing 20" is no date)
_DATE_EN = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"(?:uary|ruary|ch|il|e|y|ust|t|tember|ober|ember)?\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b"
    r"(?:,?\s+(\d{4}))?\b"
)
# the question itself (not the situation told before it) asks when a report is due …
_ASKS = re.compile(r"確報|速報|報告|届け?出|提出|期限|締め?切|deadline|due|report|file\b")
_WHEN = re.compile(r"いつ|期限|まで|何日|締め?切|deadline|due|when|how (long|many days)")
# … about a breach
_BREACH = re.compile(
    r"漏えい|漏洩|流出|紛失|誤送信|不正アクセス|ランサム|サイバー攻撃|持ち出|盗|窃取|"
    r"breach|leak|lost|ransomware|hack|stolen|unauthori[sz]ed access"
)
_NOT_IMPROPER = re.compile(
    r"(不正(な|の)目的(による|で)?(もの)?|(不正アクセス|サイバー攻撃|攻撃|ランサムウェア)(等|など)?(によるもの)?)"
    r"(で|に)?は(な|あり)"
    r"|not (malicious|intentional|deliberate|an? (attack|hack|cyber ?attack))"
    r"|no (sign of )?(hack(ing)?|attack|malicious|unauthori[sz]ed access)"
)
_IMPROPER = re.compile(
    r"不正アクセス|ランサム|サイバー攻撃|持ち出|盗|窃取|不正(な|の)目的|攻撃|"
    r"ransomware|hack|stolen|theft|unauthori[sz]ed access|malicious|attack"
)
_ACCIDENT = re.compile(r"誤送信|紛失|置き忘れ|誤配|misdirect|lost|wrong (address|recipient)")


def learned_date(question: str, today: dt.date) -> dt.date | None:
    """The day the breach was learned of: the one date the question gives or, of several, the
    earliest on which someone learned of it (「営業部は3月1日に把握、法務部に上がったのは3月4日」:
    any department's knowing starts the count, and a day the leak happened on is no day of
    learning), or None."""
    norm = normalize(question)
    return _learned_on(norm, _dates(norm), today)


def _learned_on(
    norm: str, found: list[tuple[int, int | None, int, int]], today: dt.date
) -> dt.date | None:
    """learned_date, of the dates already found in the normalised question."""
    days = [d for d in (_as_date(y, mo, d, today) for _, y, mo, d in found) if d is not None]
    if len(found) == 1:
        return days[0] if days else None
    if len(days) != len(found):
        return None
    learned = [
        d for (pos, *_), d in zip(found, days, strict=True) if _LEARNED.search(_clause(norm, pos))
    ]
    # none, or several dates none of which is told as known: which one is not ours to guess
    return min(learned) if learned else None


def _dates(norm: str) -> list[tuple[int, int | None, int, int]]:
    """The dates a text gives: (position, year or None, month, day)."""
    found: list[tuple[int, int | None, int, int]] = []
    for m in _DATE_JA.finditer(norm):
        found.append((m.start(), int(m[1]) if m[1] else None, int(m[2]), int(m[3])))
    for m in _DATE_ISO.finditer(norm):
        found.append((m.start(), int(m[1]), int(m[2]), int(m[3])))
    for m in _DATE_EN.finditer(norm):
        found.append((m.start(), int(m[3]) if m[3] else None, _MONTHS.index(m[1]) + 1, int(m[2])))
    return found


# (a clause: up to the next comma or full stop, from the previous one)
_CLAUSE_END = re.compile(r"[、。,.;!?！？]|\bbut\b")
# someone in the company came to know of it: learned, told, found, passed on
_LEARNED = re.compile(
    r"把握|知っ|知り|知る|気づ|気付|判明|発覚|発見|連絡を受|報告を受|通知を受|報告が(あ|上が)|連絡が(あ|来)"
    r"|上が(っ|る)|伝わ|共有され|届い|聞い"
    r"|learn|found out|discover|notic|told|inform|notified|alerted|aware|heard|reported to us"
)


def _clause(text: str, pos: int) -> str:
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, pos)), default=0)
    end = _CLAUSE_END.search(text, pos)
    return text[start : end.start() if end else len(text)]


def _as_date(year: int | None, month: int, day: int, today: dt.date) -> dt.date | None:
    """A date given (without a year: its latest occurrence up to today), None in the future or
    for no such day."""
    try:
        if year is not None:
            when = dt.date(year, month, day)
        else:
            when = dt.date(today.year, month, day)
            if when > today:
                when = dt.date(today.year - 1, month, day)
    except ValueError:
        return None
    return when if when <= today else None


def improper_purpose(question: str) -> bool | None:
    norm = normalize(question)
    if _NOT_IMPROPER.search(norm):
        return False
    if _IMPROPER.search(norm):
        return True
    if _ACCIDENT.search(norm):
        return False
    return None


def deadline_line(question: str, lang: str, today: dt.date | None = None) -> str | None:
    """The deadline worked out for the question's date, or None when it asks for none."""
    norm = normalize(question)
    asked = normalize(split_context(question)[1])
    if not (_ASKS.search(asked) and _WHEN.search(asked) and _BREACH.search(norm)):
        return None
    found = _dates(norm)
    learned = _learned_on(norm, found, today or today_in_japan())
    if learned is None:
        return None
    improper = improper_purpose(question)
    deadlines = compute_deadlines(learned, improper_purpose=improper)
    first = len(found) > 1  # the earliest of several days on which it was known
    if lang == "en":
        return _english(deadlines, improper, first)
    return _japanese(deadlines, improper, first)


def _ja_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（{weekday_ja(day)}）"


def _ja_final(d: Deadline) -> str:
    if d.moved_over:
        nominal = f"{d.nominal.month}月{d.nominal.day}日"
        return (
            f"{d.days}日目の{nominal}が{d.moved_over[0].reason_ja}のため翌開庁日の{_ja_day(d.due)}"
        )
    return f"{d.days}日目の{_ja_day(d.due)}"


def _japanese(deadlines: Deadlines, improper: bool | None, first: bool = False) -> str:
    learned = deadlines.learned_on
    pre = deadlines.get(Kind.PRELIMINARY)
    short, long = deadlines.get(Kind.FINAL), deadlines.get(Kind.FINAL_IMPROPER)
    if improper is True:
        final = f"確報は不正の目的によるおそれがある事態として{_ja_final(long)}まで"
    elif improper is False:
        final = f"確報は{_ja_final(short)}まで"
    else:
        final = (
            f"確報は{_ja_final(short)}まで（不正アクセスなど不正の目的によるおそれがある場合は"
            f"{_ja_final(long)}まで）"
        )
    assert pre.window_start is not None
    known = (
        f"社内で最初に知った{_ja_day(learned)}を1日目として数えると"
        if first
        else f"{_ja_day(learned)}に知った場合、その日を1日目として数えると"
    )
    return (
        f"{known}、{final}であり、"
        f"速報は速やかに（目安は{pre.window_start.month}月{pre.window_start.day}日〜"
        f"{pre.due.month}月{pre.due.day}日）出す。"
    )


def _en_day(day: dt.date) -> str:
    return f"{day:%a} {day.isoformat()}"


def _en_final(d: Deadline) -> str:
    moved = ""
    if d.moved_over:
        moved = f"; day {d.days} is {d.moved_over[0].reason_en}, so the next business day"
    return f"{_en_day(d.due)} (day {d.days}{moved})"


def _english(deadlines: Deadlines, improper: bool | None, first: bool = False) -> str:
    short, long = deadlines.get(Kind.FINAL), deadlines.get(Kind.FINAL_IMPROPER)
    pre = deadlines.get(Kind.PRELIMINARY)
    if improper is True:
        final = f"the final report (improper purpose, 60 days) is due {_en_final(long)}"
    elif improper is False:
        final = f"the final report is due {_en_final(short)}"
    else:
        final = (
            f"the final report is due {_en_final(short)}, or {_en_final(long)} if an improper "
            "purpose such as unauthorised access may be the cause"
        )
    assert pre.window_start is not None
    return (
        f"{'First learned of in the company' if first else 'Learned of'} on "
        f"{_en_day(deadlines.learned_on)} (day 1): {final}; the preliminary report "
        f"is due promptly (target {pre.window_start.isoformat()} to {pre.due.isoformat()})."
    )

"""The report's deadlines under PPC Rule 8, counted as 通則編 3-5-3-3 and 3-5-3-4 say.

- 速報 (preliminary, Rule 8(1)): "promptly"; the guideline's target is about 3-5 days, shown as
  the window from the 3rd to the 5th day.
- 確報 (final, Rule 8(2)): within 30 days; 60 days when Rule 7 item 3 (an act with an improper
  purpose) applies, alone or together with other items.
- The day the company learned of it (any department) is day 1, and weekends and holidays are
  counted. A final deadline that falls on a day the administration is closed (土日, a national
  holiday, or 12月29日～1月3日; 行政機関の休日に関する法律) moves to the next day it is open.

Holidays: jpholiday, chosen over python-holidays: pure Python with no dependencies (about 230 KB
installed, 25-70 ms to import), where python-holidays is 14 MB with its locales, takes 60-370 ms
to import and some 200 ms more to build a year on the first lookup, and requires
python-dateutil<3, which conflicts with the 4.0.0 in requirements.lock. jpholiday names holidays
in Japanese and applies the holiday law's rules (振替休日, 国民の休日, the equinoxes by formula) to
any year, with the one-off holidays of 2019-2021.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from enum import StrEnum

import jpholiday
from pydantic import BaseModel, ConfigDict

from bot.dialogs.fields import EARLIEST
from bot.incidents.facts import IncidentFacts
from bot.incidents.rules import (
    GL_FINAL,
    GL_PRELIMINARY,
    RULE_8_1,
    RULE_8_2,
    Citation,
    Decision,
    Verdict,
)

JST = dt.timezone(dt.timedelta(hours=9), "JST")  # Japan keeps no summer time
PRELIMINARY_WINDOW = (3, 5)  # the guideline's "about 3-5 days", as days counted from day 1
FINAL_DAYS = 30
FINAL_DAYS_IMPROPER = 60
HOLIDAY_LAW = Citation(
    ja="行政機関の休日に関する法律第2条", en="Act on Holidays of Administrative Organs, Art. 2"
)
GL_FINAL_NOTE = Citation(ja=f"{GL_FINAL.ja}（※2）", en=f"{GL_FINAL.en} (note 2)")
_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: that follows the locale
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class Kind(StrEnum):
    PRELIMINARY = "preliminary"  # 速報
    FINAL = "final"  # 確報, 30 days
    FINAL_IMPROPER = "final_improper"  # 確報, 60 days (Rule 7 item 3)


LABELS: dict[Kind, tuple[str, str]] = {
    Kind.PRELIMINARY: ("速報", "速報 (preliminary)"),
    Kind.FINAL: ("確報（30日）", "確報 (final)"),
    Kind.FINAL_IMPROPER: ("確報（60日・不正目的）", "確報 (final, improper purpose)"),
}


class ClosedDay(BaseModel):
    """A day the administration is closed, and why."""

    model_config = ConfigDict(frozen=True)

    day: dt.date
    reason_ja: str
    reason_en: str


class Deadline(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Kind
    label_ja: str
    label_en: str
    applies: bool | None  # None: depends on facts that are still open
    days: int  # the day counted to: 5 (end of the preliminary target), 30 or 60
    nominal: dt.date  # that day, counting the day of learning as day 1
    due: dt.date  # the date to meet: the final deadlines moved past closed days
    window_start: dt.date | None = None  # preliminary: the 3rd day
    moved_over: tuple[ClosedDay, ...] = ()  # closed days from `nominal` up to `due`
    why_not_ja: str | None = None  # when it does not apply (or may not), the short reason
    why_not_en: str | None = None
    reasoning_ja: str
    reasoning_en: str
    sources: tuple[Citation, ...]


class Deadlines(BaseModel):
    model_config = ConfigDict(frozen=True)

    learned_on: dt.date
    items: tuple[Deadline, ...]  # preliminary, final (30), final (60)

    def get(self, kind: Kind) -> Deadline:
        return next(d for d in self.items if d.kind is kind)

    @property
    def final(self) -> Deadline:
        """The final deadline to plan for: the 60-day one only when it applies (while item 3
        is open, the earlier 30-day date is the safe one)."""
        long = self.get(Kind.FINAL_IMPROPER)
        return long if long.applies else self.get(Kind.FINAL)


# -- days the administration is closed ---------------------------------------------------------


def closed_reasons(day: dt.date) -> tuple[tuple[str, str], ...]:
    """Why the administration is closed on `day` ((ja, en) pairs); empty on a business day."""
    reasons: list[tuple[str, str]] = []
    if day.weekday() == 5:
        reasons.append(("土曜日", "a Saturday"))
    elif day.weekday() == 6:
        reasons.append(("日曜日", "a Sunday"))
    name = jpholiday.is_holiday_name(day)
    if name is not None:
        reasons.append((f"祝日（{name}）", f"a holiday ({name})"))
    if (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3):
        reasons.append(("年末年始の閉庁日", "the year-end closure (Dec 29 - Jan 3)"))
    return tuple(reasons)


def is_business_day(day: dt.date) -> bool:
    return not closed_reasons(day)


def roll_forward(day: dt.date) -> tuple[dt.date, tuple[ClosedDay, ...]]:
    """`day` if the administration is open then, else the next day it is, with the closed
    days passed over."""
    skipped: list[ClosedDay] = []
    while reasons := closed_reasons(day):
        skipped.append(
            ClosedDay(
                day=day,
                reason_ja="・".join(ja for ja, _ in reasons),
                reason_en=" and ".join(en for _, en in reasons),
            )
        )
        day += dt.timedelta(days=1)
    return day, tuple(skipped)


def day_number(learned_on: dt.date, n: int) -> dt.date:
    """The n-th day, the day of learning being day 1."""
    return learned_on + dt.timedelta(days=n - 1)


# -- the deadlines -----------------------------------------------------------------------------


def _and(a: bool | None, b: bool | None) -> bool | None:
    """Three-valued and: False wins, then unknown."""
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def compute_deadlines(
    learned_on: dt.date, *, improper_purpose: bool | None, reportable: bool | None = True
) -> Deadlines:
    """Every deadline for an incident learned of on `learned_on`. `improper_purpose`: whether
    Rule 7 item 3 applies; `reportable`: whether a report is required at all (None: open)."""
    return Deadlines(
        learned_on=learned_on,
        items=(
            _preliminary(learned_on, reportable),
            _final(learned_on, Kind.FINAL, reportable, improper_purpose),
            _final(learned_on, Kind.FINAL_IMPROPER, reportable, improper_purpose),
        ),
    )


def deadlines_for(facts: IncidentFacts, decision: Decision) -> Deadlines:
    reportable = {Verdict.REQUIRED: True, Verdict.NOT_REQUIRED: False}.get(decision.verdict)
    return compute_deadlines(
        facts.learned_on, improper_purpose=decision.improper_purpose, reportable=reportable
    )


def _not(flag: bool | None) -> bool | None:
    return None if flag is None else not flag


def _preliminary(learned_on: dt.date, reportable: bool | None) -> Deadline:
    first, last = PRELIMINARY_WINDOW
    start, end = day_number(learned_on, first), day_number(learned_on, last)
    ja = (
        f"発覚日（{learned_on}）を1日目として数えます。速報は「速やかに」出すもので、目安は概ね3～5日以内、"
        f"つまり{start}（3日目）から{end}（5日目）までです。速報では、その時点で分かっていることを報告すれば足ります。"
        "休日による繰り延べの定めは確報の期限についてのもので、この目安は数えたとおりに示しています。"
    )
    en = (
        f"Counting {learned_on}, the day of learning, as day 1: the preliminary report is due "
        f"promptly, and the guideline's target of about 3-5 days is {start} (day 3) to {end} "
        "(day 5). It need only contain what is known at the time. The rule that moves a "
        "deadline off a holiday is written for the final report; this target is shown as counted."
    )
    prefix_ja, prefix_en = _scope(reportable)
    label_ja, label_en = LABELS[Kind.PRELIMINARY]
    why_ja, why_en = _why_not(Kind.PRELIMINARY, reportable, None)
    return Deadline(
        kind=Kind.PRELIMINARY,
        label_ja=label_ja,
        label_en=label_en,
        applies=reportable,
        days=last,
        nominal=end,
        due=end,
        window_start=start,
        why_not_ja=why_ja,
        why_not_en=why_en,
        reasoning_ja=prefix_ja + ja,
        reasoning_en=prefix_en + en,
        sources=(RULE_8_1, GL_PRELIMINARY),
    )


def _why_not(
    kind: Kind, reportable: bool | None, improper: bool | None
) -> tuple[str | None, str | None]:
    """The short reason a deadline does not apply, or may not; None when it does."""
    if reportable is False:
        return "報告義務なし", "no report is required"
    if kind is Kind.FINAL and improper is True:
        return (
            "不正の目的による行為のおそれがあり、60日が適用される",
            "an improper purpose may be the cause, so 60 days apply instead",
        )
    if kind is Kind.FINAL_IMPROPER and improper is False:
        return (
            "不正の目的による行為のおそれがある場合（規則第7条第3号）だけ",
            "only when an improper purpose may be the cause, PPC Rules Art. 7(iii)",
        )
    if kind is not Kind.PRELIMINARY and improper is None:
        return "第3号に該当するかが未確認", "whether item 3 applies is still open"
    if reportable is None:
        return "報告の要否が未確定", "whether a report is required is still open"
    return None, None


def _scope(reportable: bool | None) -> tuple[str, str]:
    if reportable is False:
        return (
            "報告義務がないため、この期限はありません（参考に日付を示します）。",
            "No report is required, so this deadline does not bind (dates shown for reference). ",
        )
    if reportable is None:
        return (
            "報告の要否が未確定です。報告が必要な場合の期限です。",
            "Whether a report is required is still open; this is the deadline if it is. ",
        )
    return "", ""


def _final(
    learned_on: dt.date, kind: Kind, reportable: bool | None, improper: bool | None
) -> Deadline:
    long = kind is Kind.FINAL_IMPROPER
    days = FINAL_DAYS_IMPROPER if long else FINAL_DAYS
    applies = _and(reportable, improper if long else _not(improper))
    nominal = day_number(learned_on, days)
    due, skipped = roll_forward(nominal)
    count_ja = (
        f"発覚日（{learned_on}）を1日目とし、土日・祝日も数えると、{days}日目は{nominal}です。"
    )
    count_en = (
        f"Counting {learned_on}, the day of learning, as day 1 and weekends and holidays "
        f"included, day {days} is {nominal}."
    )
    if skipped:
        move_ja = f"この日は{skipped[0].reason_ja}で行政機関の休日にあたるため、翌開庁日の{due}が期限です。"
        move_en = (
            f" That is {skipped[0].reason_en}, when the administration is closed, so the "
            f"deadline moves to the next business day, {due}."
        )
    else:
        move_ja, move_en = (
            "開庁日なので、この日が期限です。",
            " It is a business day, so that is the deadline.",
        )
    which_ja, which_en = _which(kind, improper)
    prefix_ja, prefix_en = _scope(reportable)
    label_ja, label_en = LABELS[kind]
    why_ja, why_en = _why_not(kind, reportable, improper)
    return Deadline(
        kind=kind,
        label_ja=label_ja,
        label_en=label_en,
        applies=applies,
        days=days,
        nominal=nominal,
        due=due,
        moved_over=skipped,
        why_not_ja=why_ja,
        why_not_en=why_en,
        reasoning_ja=prefix_ja + which_ja + count_ja + move_ja,
        reasoning_en=f"{prefix_en}{which_en} {count_en}{move_en}",
        sources=(RULE_8_2, GL_FINAL_NOTE, HOLIDAY_LAW),
    )


def _which(kind: Kind, improper: bool | None) -> tuple[str, str]:
    """Which final deadline this is, and whether it is the one for this incident."""
    if kind is Kind.FINAL:
        which_ja = "確報の期限は30日以内です（不正の目的による行為のおそれがある事態を除く）。"
        which_en = "The final report is due within 30 days unless item 3 applies."
        if improper is True:
            which_ja = "不正の目的による行為のおそれがあるため（規則第7条第3号）、30日ではなく60日の期限が適用されます。"
            which_en = (
                "Item 3 (an improper purpose) applies, so the 60-day deadline replaces this one."
            )
        elif improper is None:
            which_ja += "第3号に該当するかが未確認の間は、早い方のこの期限を前提にしてください。"
            which_en += " While item 3 is open, plan for this earlier date."
    else:
        which_ja = (
            "不正の目的による行為のおそれがある事態（規則第7条第3号）では、他の号に同時に該当する場合も含め、"
            "確報の期限は60日以内です。"
        )
        which_en = (
            "When an act with an improper purpose may be the cause (PPC Rules Art. 7(iii)), "
            "alone or together with other items, the final report is due within 60 days."
        )
        if improper is False:
            which_ja += "この事態には当たらないため、適用されません。"
            which_en += " That is not the case here, so this deadline does not apply."
        elif improper is None:
            which_ja += "該当するかどうかは未確認です。"
            which_en += " Whether it is the case is still open."
    return which_ja, which_en


# -- plain text --------------------------------------------------------------------------------


def weekday_ja(day: dt.date) -> str:
    return _WEEKDAYS_JA[day.weekday()]


def deadline_lines(deadlines: Deadlines) -> list[str]:
    """One line for the day of learning and one per deadline, dates as YYYY-MM-DD: what the
    terminal prints, and the text a chat message starts from."""
    learned = deadlines.learned_on
    lines = [f"発覚日 (learned): {learned} ({_WEEKDAYS_EN[learned.weekday()]}) = day 1"]
    for d in deadlines.items:
        lines.append(f"{d.label_en}: {_line(d, learned)}")
    return lines


def _line(d: Deadline, learned: dt.date) -> str:
    if d.kind is Kind.PRELIMINARY:
        short = f"target {d.window_start} – {d.due}"
        when = f"promptly; {short}"
    else:
        short, counted = f"{d.due}", f"{d.days} days from {learned} = {d.nominal}"
        if d.moved_over:
            when = f"{d.due} ({counted}, {d.moved_over[0].reason_en} → next business day)"
        else:
            when = f"{d.due} ({counted}, a business day)"
    if d.applies is True:
        return when
    if d.applies is None:
        return f"if it applies ({d.why_not_en}): {when}"
    return f"not applicable ({d.why_not_en}); it would be {short}"


# -- the day of learning, as typed -------------------------------------------------------------


class LearnedDateError(ValueError):
    """A 発覚日 that cannot be used; the message says why, in English and Japanese."""

    def __init__(self, en: str, ja: str) -> None:
        super().__init__(en)
        self.en = en
        self.ja = ja


def today_in_japan(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(JST).date()


def parse_learned_on(text: str, today: dt.date) -> dt.date:
    """A 発覚日 typed as YYYY-MM-DD (full-width digits accepted). Refused: other forms, days
    that do not exist, days after `today` (the company cannot have learned of an incident in
    the future: such a date is a typo, and deadlines from it would look later than they are),
    and days before the dialogs' earliest date."""
    normal = unicodedata.normalize("NFKC", text).strip().replace("－", "-").replace("−", "-")
    m = _ISO_DAY.fullmatch(normal)
    if m is None:
        raise LearnedDateError(
            f"{text!r} is not a date in the form YYYY-MM-DD",
            f"「{text}」はYYYY-MM-DDの形の日付ではありません",
        )
    year, month, day = (int(g) for g in m.groups())
    try:
        learned = dt.date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            last = calendar.monthrange(year, month)[1]
            en, ja = f"{year}-{month:02d} has {last} days", f"{year}年{month}月は{last}日までです"
        else:
            en, ja = "a month is 01-12", "月は01～12です"
        raise LearnedDateError(
            f"{normal} does not exist ({en})", f"{normal}という日はありません（{ja}）"
        ) from None
    if learned > today:
        raise LearnedDateError(
            f"{learned} is after today ({today}, Japan time); the day the company learned "
            "of an incident cannot be in the future",
            f"{learned}は今日（{today}）より後です。発覚日は未来の日付にできません",
        )
    if learned < EARLIEST:
        raise LearnedDateError(
            f"{learned} is before {EARLIEST}, the earliest date Itaku accepts",
            f"{learned}は受け付ける最も早い日付（{EARLIEST}）より前です",
        )
    return learned


def sources_line(deadlines: Deadlines, lang: str = "en") -> str:
    """Every source the deadlines rest on, once each, in order."""
    seen = dict.fromkeys(
        (c.en if lang == "en" else c.ja) for d in deadlines.items for c in d.sources
    )
    return "; ".join(seen)

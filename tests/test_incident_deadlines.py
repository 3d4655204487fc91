"""Incident reports (bot/incidents): PPC Rule 7's decision item by item, Rule 8's deadlines on a
real calendar (weekends, national and substitute holidays, Golden Week, the year end, leap
years, the 60-day case), the draft report's nine items, and `itaku incidents deadline`.

Every expected date below was worked out by hand from the calendar, not from the code."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.cli import main
from bot.incidents.deadlines import (
    Kind,
    LearnedDateError,
    closed_reasons,
    compute_deadlines,
    deadline_lines,
    deadlines_for,
    is_business_day,
    parse_learned_on,
    today_in_japan,
)
from bot.incidents.facts import ImproperCause, IncidentFacts
from bot.incidents.report import ITEMS, TODO, build_report, report_files, to_docx, to_markdown
from bot.incidents.rules import Status, Verdict, decide

D = dt.date.fromisoformat

# -- the final report's 30 days -----------------------------------------------------------------

# (day of learning, day 30, the deadline after moving, why)
THIRTY_DAYS = [
    ("2026-12-10", "2027-01-08", "2027-01-08", "an ordinary Friday: no move"),
    ("2026-06-05", "2026-07-04", "2026-07-06", "Saturday -> Monday"),
    ("2026-04-25", "2026-05-24", "2026-05-25", "Sunday -> Monday (learned on a Saturday)"),
    ("2026-10-25", "2026-11-23", "2026-11-24", "勤労感謝の日 on a Monday (learned on a Sunday)"),
    ("2026-01-25", "2026-02-23", "2026-02-24", "天皇誕生日 on a Monday"),
    ("2024-01-13", "2024-02-11", "2024-02-13", "建国記念の日 on a Sunday: Monday is 振替休日"),
    (
        "2026-04-07",
        "2026-05-06",
        "2026-05-07",
        "the substitute holiday itself (憲法記念日 was a Sunday)",
    ),
    (
        "2026-04-03",
        "2026-05-02",
        "2026-05-07",
        "Golden Week 2026: Sat, Sun, three holidays, 振替休日",
    ),
    ("2027-04-02", "2027-05-01", "2027-05-06", "Golden Week 2027: Sat, Sun, 3-5 May"),
    ("2027-03-31", "2027-04-29", "2027-04-30", "昭和の日 on a Thursday: Friday is open"),
    ("2019-03-29", "2019-04-27", "2019-05-07", "the ten days of 2019 (即位の日, 国民の休日)"),
    ("2026-08-21", "2026-09-19", "2026-09-24", "Silver Week 2026 with 国民の休日 on the 22nd"),
    ("2026-11-30", "2026-12-29", "2027-01-04", "year end: 29 Dec - 3 Jan, then Monday"),
    ("2025-12-01", "2025-12-30", "2026-01-05", "year end running into a weekend (3-4 Jan 2026)"),
    ("2026-12-03", "2027-01-01", "2027-01-04", "元日, 2-3 Jan and the weekend"),
    ("2027-11-30", "2027-12-29", "2028-01-04", "year end with 3 Jan on a Monday"),
    ("2024-02-01", "2024-03-01", "2024-03-01", "leap year: February has 29 days"),
    ("2026-02-01", "2026-03-02", "2026-03-02", "common year: February has 28 days"),
    ("2028-02-29", "2028-03-29", "2028-03-29", "learned on a leap day"),
    ("2026-01-01", "2026-01-30", "2026-01-30", "learned on 元日 itself: still day 1"),
    ("2026-05-03", "2026-06-01", "2026-06-01", "learned on a Sunday holiday: still day 1"),
]


@pytest.mark.parametrize(("learned", "day30", "due", "why"), THIRTY_DAYS)
def test_the_final_report_is_due_on_day_30_or_the_next_business_day(
    learned: str, day30: str, due: str, why: str
) -> None:
    final = compute_deadlines(D(learned), improper_purpose=False).get(Kind.FINAL)
    assert final.applies is True
    assert (final.nominal, final.due) == (D(day30), D(due)), why
    assert bool(final.moved_over) == (day30 != due)
    if final.moved_over:  # every day passed over is closed, and the first is day 30
        assert final.moved_over[0].day == D(day30)
        assert all(not is_business_day(c.day) for c in final.moved_over)
        assert final.moved_over[-1].day == D(due) - dt.timedelta(days=1)
    assert is_business_day(final.due)


# -- 60 days when item 3 applies -----------------------------------------------------------------

SIXTY_DAYS = [
    ("2026-12-03", "2027-01-31", "2027-02-01", "Sunday -> Monday"),
    ("2026-03-07", "2026-05-05", "2026-05-07", "こどもの日, then the 振替休日 of 6 May"),
    ("2024-01-15", "2024-03-14", "2024-03-14", "across a leap February"),
    ("2026-10-31", "2026-12-29", "2027-01-04", "into the year end"),
]


@pytest.mark.parametrize(("learned", "day60", "due", "why"), SIXTY_DAYS)
def test_an_improper_purpose_gives_60_days(learned: str, day60: str, due: str, why: str) -> None:
    deadlines = compute_deadlines(D(learned), improper_purpose=True)
    long = deadlines.get(Kind.FINAL_IMPROPER)
    assert (long.applies, long.nominal, long.due) == (True, D(day60), D(due)), why
    assert deadlines.get(Kind.FINAL).applies is False
    assert deadlines.final is long


def test_without_an_improper_purpose_the_60_days_do_not_apply() -> None:
    deadlines = compute_deadlines(D("2026-12-03"), improper_purpose=False)
    assert deadlines.get(Kind.FINAL_IMPROPER).applies is False
    assert deadlines.final.kind is Kind.FINAL


def test_while_item_3_is_open_both_may_apply_and_the_earlier_is_planned_for() -> None:
    deadlines = compute_deadlines(D("2026-12-03"), improper_purpose=None)
    assert deadlines.get(Kind.FINAL).applies is None
    assert deadlines.get(Kind.FINAL_IMPROPER).applies is None
    assert deadlines.final.due == D("2027-01-04")
    assert "earlier" in deadlines.get(Kind.FINAL).reasoning_en


# -- the preliminary report ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("learned", "day3", "day5"),
    [
        ("2026-12-03", "2026-12-05", "2026-12-07"),  # days 3 and 5 fall on Sat and Mon
        ("2026-12-30", "2027-01-01", "2027-01-03"),  # in the year end: the target is not moved
        ("2024-02-27", "2024-02-29", "2024-03-02"),  # leap day
    ],
)
def test_the_preliminary_target_is_days_3_to_5(learned: str, day3: str, day5: str) -> None:
    pre = compute_deadlines(D(learned), improper_purpose=False).get(Kind.PRELIMINARY)
    assert (pre.window_start, pre.due, pre.applies) == (D(day3), D(day5), True)
    assert pre.moved_over == ()
    assert "promptly" in pre.reasoning_en and "速やか" in pre.reasoning_ja


def test_no_deadline_applies_when_no_report_is_required() -> None:
    deadlines = compute_deadlines(D("2026-12-03"), improper_purpose=False, reportable=False)
    assert [d.applies for d in deadlines.items] == [False, False, False]
    assert all(d.why_not_en == "no report is required" for d in deadlines.items)


def test_every_deadline_carries_its_reasoning_and_sources() -> None:
    deadlines = compute_deadlines(D("2026-11-30"), improper_purpose=False)
    for d in deadlines.items:
        assert d.reasoning_ja and d.reasoning_en and d.sources
    final = deadlines.get(Kind.FINAL)
    assert "年末年始" in final.reasoning_ja and "2027-01-04" in final.reasoning_en
    assert {c.ja for c in final.sources} >= {
        "個人情報保護委員会規則第8条第2項",
        "行政機関の休日に関する法律第2条",
    }
    data = deadlines.model_dump(mode="json")
    assert data["items"][1]["due"] == "2027-01-04"  # dates as ISO strings


def test_closed_days_name_their_reason() -> None:
    assert closed_reasons(D("2026-12-31")) == (
        ("年末年始の閉庁日", "the year-end closure (Dec 29 - Jan 3)"),
    )
    assert [ja for ja, _ in closed_reasons(D("2028-01-01"))] == [
        "土曜日",
        "祝日（元日）",
        "年末年始の閉庁日",
    ]
    assert "振替休日" in closed_reasons(D("2026-05-06"))[0][0]
    assert closed_reasons(D("2026-12-28")) == ()  # the last working day of 2026
    assert is_business_day(D("2027-01-04"))


def test_deadlines_follow_the_decision() -> None:
    facts = IncidentFacts(learned_on=D("2026-12-03"), improper_cause=ImproperCause.RANSOMWARE)
    deadlines = deadlines_for(facts, decide(facts))
    assert deadlines.final.kind is Kind.FINAL_IMPROPER and deadlines.final.due == D("2027-02-01")
    assert deadlines.get(Kind.PRELIMINARY).applies is True
    open_facts = IncidentFacts(learned_on=D("2026-12-03"), people=10)
    deadlines = deadlines_for(open_facts, decide(open_facts))
    assert deadlines.get(Kind.PRELIMINARY).applies is None  # items 1-3 still open


# -- PPC Rule 7, item by item -------------------------------------------------------------------

NONE: dict[str, Any] = {
    "sensitive": False,
    "financial_damage": False,
    "improper_purpose": False,
    "people": 10,
}


def facts(**changes: Any) -> IncidentFacts:
    return IncidentFacts(learned_on=D("2026-11-20"), **{**NONE, **changes})


@pytest.mark.parametrize(
    ("changes", "items"),
    [
        ({}, []),
        ({"sensitive": True}, [1]),
        ({"financial_damage": True}, [2]),
        ({"improper_purpose": True}, [3]),
        ({"people": 1001}, [4]),
        ({"people": 1000}, []),  # not *over* 1,000
        ({"people": 1001, "people_is_maximum": True}, [4]),  # the possible maximum counts
        ({"sensitive": True, "people": 5000}, [1, 4]),
        ({"financial_damage": True, "improper_purpose": True}, [2, 3]),
        (
            {"sensitive": True, "financial_damage": True, "improper_purpose": True, "people": 2000},
            [1, 2, 3, 4],
        ),
    ],
)
def test_each_item_alone_and_combined(changes: dict[str, Any], items: list[int]) -> None:
    decision = decide(facts(**changes))
    assert [a.item for a in decision.applicable] == items
    assert decision.verdict is (Verdict.REQUIRED if items else Verdict.NOT_REQUIRED)
    for a in decision.applicable:
        assert a.reason_ja and a.reason_en
        assert f"個人情報保護委員会規則第7条第{a.item}号" in [c.ja for c in a.sources]
        assert any("3-5-3-1" in c.en for c in a.sources)
    assert decision.notify_individuals.applies is bool(items)


def test_an_improper_purpose_with_other_items_still_gives_60_days() -> None:
    f = facts(sensitive=True, improper_purpose=True, people=5000)
    deadlines = deadlines_for(f, decide(f))
    assert deadlines.final.days == 60 and deadlines.get(Kind.FINAL).applies is False


def test_the_1000_boundary_in_words() -> None:
    at = decide(facts(people=1000)).items[3]
    over = decide(facts(people=1001)).items[3]
    assert at.status is Status.DOES_NOT_APPLY and "1,000" in at.reason_ja
    assert over.status is Status.APPLIES and "1,001人" in over.reason_ja


def test_advanced_encryption_takes_the_data_out_of_every_item() -> None:
    decision = decide(facts(sensitive=True, improper_purpose=True, people=50_000, encrypted=True))
    assert decision.verdict is Verdict.NOT_REQUIRED
    assert {a.status for a in decision.items} == {Status.EXEMPT}
    assert decision.applicable == ()
    assert "暗号化" in decision.summary_ja and "encryption" in decision.summary_en
    assert all("第1号括弧書" in a.sources[0].ja for a in decision.items)
    assert decision.notify_individuals.applies is False


def test_open_facts_leave_the_decision_open_unless_an_item_applies() -> None:
    unknown = decide(IncidentFacts(learned_on=D("2026-11-20")))
    assert unknown.verdict is Verdict.UNDETERMINED
    assert [a.item for a in unknown.open_items] == [1, 2, 3, 4]
    assert unknown.improper_purpose is None and unknown.notify_individuals.applies is None
    one = decide(IncidentFacts(learned_on=D("2026-11-20"), sensitive=True))
    assert one.verdict is Verdict.REQUIRED  # one item is enough, whatever is still open


def test_naming_the_act_answers_the_improper_purpose() -> None:
    f = IncidentFacts(learned_on=D("2026-11-20"), improper_cause="insider")
    assert f.improper_purpose is True
    reason = decide(f).items[2].reason_ja
    assert "従業者による不正な持ち出し" in reason and "委託先" in reason
    with pytest.raises(ValidationError):
        IncidentFacts(learned_on=D("2026-11-20"), improper_cause="theft", improper_purpose=False)


@pytest.mark.parametrize(
    "bad",
    [
        {"people": -1},
        {"occurred_on": D("2026-11-21")},  # after the day of learning
        {"learned_on": D("1999-12-31")},
        {"unknown_field": 1},
    ],
)
def test_impossible_facts_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        IncidentFacts(**{"learned_on": D("2026-11-20"), **bad})


def test_at_a_contractor_the_principal_reports_and_a_prompt_notice_excuses_the_contractor() -> None:
    decision = decide(facts(contractor="株式会社サンプル", sensitive=True))
    note = decision.contractor
    assert note is not None
    assert "株式会社サンプル" in note.text_ja and "免除" in note.text_ja and "連名" in note.text_ja
    assert "excused" in note.text_en
    assert {"個人情報保護委員会規則第9条", "個人情報保護法第26条第1項ただし書"} <= {
        c.ja for c in note.sources
    }
    assert "当社" in decision.notify_individuals.text_ja
    assert decide(facts()).contractor is None


# -- the draft report -----------------------------------------------------------------------------


def test_the_report_has_the_nine_items_and_marks_what_is_unknown() -> None:
    draft = build_report(IncidentFacts(learned_on=D("2026-11-20")))
    assert [i.title for i in draft.items] == [title for title, _ in ITEMS]
    assert len(draft.items) == 9
    assert draft.items[0].title == "概要" and draft.items[8].title == "その他参考となる事項"
    assert all(not item.complete for item in draft.items)  # nothing but the date is known
    assert all(TODO in "".join(item.lines) for item in draft.items)


def test_the_report_is_filled_from_known_facts() -> None:
    f = IncidentFacts(
        learned_on=D("2026-11-20"),
        contractor="株式会社サンプル印刷",
        what_happened="委託先のサーバが\nランサムウェアに感染した",
        data_kinds=("氏名", "住所"),
        people=3200,
        people_is_maximum=True,
        sensitive=False,
        financial_damage=False,
        improper_cause=ImproperCause.RANSOMWARE,
    )
    draft = build_report(f)
    text = {item.number: "\n".join(item.lines) for item in draft.items}
    assert "2026年11月20日（金）" in text[1] and "サーバが　ランサムウェア" in text[1]
    assert "第3号・第4号" in text[1] and "株式会社サンプル印刷" in text[1]
    assert "氏名、住所" in text[2] and "要配慮個人情報：含まれない" in text[2]
    assert draft.items[2].complete and "3,200人（最大の見込み" in text[3]
    assert "ランサムウェア" in text[4] and "委託先" in text[4]
    assert "委託先との関係" in text[9]
    assert any("確報：2027年1月18日（月）まで（60日以内）" in line for line in draft.assessment)


def test_markdown_and_docx() -> None:
    f = IncidentFacts(learned_on=D("2026-11-20"), what_happened="*太字* # 見出し [x](y)")
    draft = build_report(f)
    md = to_markdown(draft)
    assert md.startswith("# 個人情報の漏えい等に関する報告（下書き）\n")
    assert md.count("\n### （") == 9
    for n, (title, _) in enumerate(ITEMS, start=1):
        assert f"### （{n}）{title}" in md
    assert r"\*太字\* \# 見出し \[x\](y)" in md  # free text stays literal
    assert "確報：2026年12月21日（月）まで（30日以内。30日目の2026年12月19日（土）は土曜日" in md

    document = docx.Document(io.BytesIO(to_docx(draft)))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == draft.title and draft.notice in texts
    for item in draft.items:
        heading = document.paragraphs[texts.index(f"（{item.number}）{item.title}")]
        assert all(r.bold for r in heading.runs)
        assert all(line in texts for line in item.lines)
    assert document.core_properties.title == draft.title
    assert "サンプル" not in (document.core_properties.subject or "")

    files = report_files(f.model_copy(update={"contractor": "A/B 社"}))
    assert files.basename == "漏えい等報告_A_B_社_2026-11-20"
    assert files.docx[:2] == b"PK" and files.markdown.startswith("# ")
    assert dict(files.summary)["確報の期限"] == "2026年12月21日（月）"


# -- the day of learning as typed -----------------------------------------------------------------

TODAY = D("2026-12-03")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "2026-02 has 28 days"),
        ("2024-02-30", "2024-02 has 29 days"),
        ("2026-13-01", "a month is 01-12"),
        ("2026/12/03", "YYYY-MM-DD"),
        ("20261203", "YYYY-MM-DD"),
        ("2026-12-3", "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
        ("2026-12-04", "after today"),
        ("1999-12-31", "before 2000-01-01"),
    ],
)
def test_unusable_days_of_learning_are_refused(text: str, message: str) -> None:
    with pytest.raises(LearnedDateError) as err:
        parse_learned_on(text, TODAY)
    assert message in str(err.value) and err.value.ja


def test_today_and_full_width_digits_are_accepted() -> None:
    assert parse_learned_on("2026-12-03", TODAY) == TODAY
    assert parse_learned_on("２０２６－１１－３０", TODAY) == D("2026-11-30")
    late_evening_utc = dt.datetime(2026, 12, 3, 15, 30, tzinfo=dt.UTC)
    assert today_in_japan(late_evening_utc) == D("2026-12-04")  # already the 4th in Japan


# -- the command line ----------------------------------------------------------------------------


def test_cli_prints_both_dates_as_iso(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incidents", "deadline", "--learned", "2025-12-01"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "発覚日 (learned): 2025-12-01 (Mon) = day 1"
    assert out[1] == "速報 (preliminary): promptly; target 2025-12-03 – 2025-12-05"
    assert out[2].startswith(
        "確報 (final): 2026-01-05 (30 days from 2025-12-01 = 2025-12-30, the year-end closure"
    )
    assert out[2].endswith("→ next business day)")
    assert out[3].startswith("確報 (final, improper purpose): not applicable (")
    assert out[3].endswith("it would be 2026-01-29")
    assert any(line.startswith("Sources: ") for line in out)


def test_cli_improper_gives_60_days(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incidents", "deadline", "--learned", "2026-03-07", "--improper"]) == 0
    out = capsys.readouterr().out
    assert "確報 (final): not applicable (an improper purpose may be the cause" in out
    assert (
        "確報 (final, improper purpose): 2026-05-07 (60 days from 2026-03-07 = 2026-05-05, "
        "a holiday (こどもの日) → next business day)"
    ) in out


def test_cli_a_business_day_is_not_moved(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incidents", "deadline", "--learned", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "確報 (final): 2026-01-30 (30 days from 2026-01-01 = 2026-01-30, a business day)" in out
    assert deadline_lines(compute_deadlines(D("2026-01-01"), improper_purpose=False))[2] in out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "does not exist (2026-02 has 28 days)"),
        ("2026-2-3", "is not a date in the form YYYY-MM-DD"),
        ("yesterday", "is not a date in the form YYYY-MM-DD"),
        ("2999-01-01", "cannot be in the future"),
    ],
)
def test_cli_refuses_unusable_dates_with_exit_2(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["incidents", "deadline", "--learned", value]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("itaku incidents deadline: ") and message in captured.err


def test_cli_requires_the_day_of_learning(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["incidents", "deadline"])
    assert exc.value.code == 2
    assert "--learned" in capsys.readouterr().err


# -- properties over any day ----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    learned=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)),
    improper=st.booleans(),
)
def test_any_day_gives_a_business_day_no_earlier_than_the_counted_one(
    learned: dt.date, improper: bool
) -> None:
    deadlines = compute_deadlines(learned, improper_purpose=improper)
    final = deadlines.final
    assert final.days == (60 if improper else 30)
    assert (final.nominal - learned).days == final.days - 1  # the day of learning is day 1
    assert is_business_day(final.due) and final.due >= final.nominal
    assert (final.due - final.nominal).days == len(final.moved_over)  # only closed days skipped
    assert (final.due - final.nominal).days <= 10  # the longest closure: 27 Apr - 6 May 2019
    pre = deadlines.get(Kind.PRELIMINARY)
    assert pre.window_start is not None
    assert ((pre.window_start - learned).days, (pre.due - learned).days) == (2, 4)

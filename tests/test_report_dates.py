"""A breach report's deadline worked out for the day a question gives: the date found (with or
without a year, in Japanese or English; of several, the earliest on which it was known), the 30- or 60-day deadline chosen from the question's
words, closed days passed over, and nothing added when no single past date is given."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.assistant.report_dates import deadline_line, improper_purpose, learned_date

TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("12月28日に漏えいを把握しました", dt.date(2025, 12, 28)),  # latest past occurrence
        ("１１月２日に漏えいを把握しました", dt.date(2026, 11, 2)),  # full-width digits
        ("2026年3月1日に知りました", dt.date(2026, 3, 1)),
        ("We learned of it on Nov 20.", dt.date(2026, 11, 20)),
        ("We learned of it on 2026-10-05.", dt.date(2026, 10, 5)),
        ("On September 5, 2026 the vendor told us.", dt.date(2026, 9, 5)),
        ("Our marketing 20 vendors were told.", None),  # no month's name
        ("2027年1月5日に知りました", None),  # in the future: a typo, not a day of learning
        ("2月30日に知りました", None),  # no such day
        ("3月1日に発生し、3月4日に知りました", dt.date(2026, 3, 4)),  # the day it happened: no
        # several days of knowing: any department's first knowing starts the count
        ("営業部は3月1日に把握、法務部に上がったのは3月4日でした", dt.date(2026, 3, 1)),
        ("The leak began on May 2, but we found out on May 9.", dt.date(2026, 5, 9)),
        ("3月1日と3月4日、どちらの日ですか", None),  # two dates, neither told as known
        ("確報の期限は？", None),
    ],
)
def test_the_day_of_learning(question: str, expected: dt.date | None) -> None:
    assert learned_date(question, TODAY) == expected


def test_whether_an_improper_purpose_is_told() -> None:
    assert improper_purpose("委託先サーバーへの不正アクセスで流出した") is True
    assert improper_purpose("ランサムウェアに感染した") is True
    assert improper_purpose("誤送信で漏えいした。不正な目的によるものではありません") is False
    assert improper_purpose("メールの誤送信で漏えいした") is False
    assert improper_purpose("漏えいした") is None
    # an attack named to say it was not one
    assert improper_purpose("取引先へ誤ってメール送信した。不正アクセス等ではありません") is False
    assert improper_purpose("サイバー攻撃ではない") is False
    assert improper_purpose("It was a misdirected e-mail, not an attack.") is False
    assert improper_purpose("There was no hacking involved.") is False


def test_the_deadline_line_counts_from_day_one_and_passes_closed_days() -> None:
    line = deadline_line("12月28日に不正アクセスによる漏えいを把握。確報はいつまで？", "ja", TODAY)
    assert line is not None
    assert "2025年12月28日（日）" in line and "60日目の2026年2月25日（水）" in line
    # 2026-09-19 + 29 = 2026-10-18, a Sunday: the deadline moves to Monday the 19th
    line = deadline_line("2026年9月19日に誤送信による漏えいを知った。確報の期限は？", "ja", TODAY)
    assert line is not None and "2026年10月19日（月）" in line and "日曜日" in line
    # not told whether the cause was improper: both dates
    line = deadline_line("2026年11月2日に漏えいを知った。確報はいつまで？", "ja", TODAY)
    assert line is not None and "30日目の2026年12月1日（火）" in line
    assert "60日目の12月31日が年末年始の閉庁日のため翌開庁日の2027年1月4日（月）" in line
    assert "30日目" in line and "60日目" in line
    english = deadline_line(
        "We learned on Nov 20 that a vendor was hacked. When is the final report due?", "en", TODAY
    )
    assert english is not None and "2027-01-18" in english and "day 60" in english


def test_no_line_without_a_breach_report_question() -> None:
    assert deadline_line("12月28日に委託契約を結んだ。更新はいつ？", "ja", TODAY) is None
    assert deadline_line("12月28日に漏えいを知った。誰に連絡すればいい？", "ja", TODAY) is None


def test_only_the_question_itself_asks_for_the_deadline() -> None:
    told = "12月1日に委託先から漏えいの報告を受けました。まず誰に連絡すればいいですか。"
    assert deadline_line(told, "ja", TODAY) is None
    asked = "12月1日に委託先から漏えいの連絡を受けました。確報はいつまでに出せばいいですか。"
    assert deadline_line(asked, "ja", TODAY) is not None


def test_of_several_days_the_line_counts_from_the_first_knowing() -> None:
    told = "委託先の漏えいを現場は3月1日に把握、法務部に上がったのは3月4日。確報はいつまで？"
    line = deadline_line(told, "ja", TODAY)
    assert line is not None and line.startswith("社内で最初に知った2026年3月1日（日）を1日目")
    assert "30日目の2026年3月30日（月）" in line
    line = deadline_line(
        "The leak happened on May 2; we found out on May 9. When is the report due?", "en", TODAY
    )
    assert line is not None and line.startswith("First learned of in the company on Sat 2026-05-09")

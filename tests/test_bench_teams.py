"""`itaku bench teams` in-process on a handful of questions: the senders, the retries, the
Connector faults and the answer checks it runs against a real `itaku serve --teams`, here against
the Teams app of tests/teams_harness.py, so the bench cannot rot between runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant.service import Assistant
from bot.bench import teams as bench
from bot.bench.slack import question_texts
from tests.slack_harness import sqlite_url
from tests.teams_harness import TeamsHarness


@pytest.fixture()
def teams(tmp_path: Path, bundled_assistant: Assistant) -> Iterator[TeamsHarness]:
    harness = TeamsHarness(bundled_assistant, sqlite_url(tmp_path))
    yield harness
    harness.close()


def url(h: TeamsHarness) -> str:
    return f"http://127.0.0.1:{h.port}/api/messages"


def test_questions_are_answered_once_despite_retries_and_faults(
    teams: TeamsHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = question_texts()
    assert bench.warm_up(teams.standin, url(teams), questions, 2)
    result = bench.drive(
        teams.standin,
        url(teams),
        questions,
        8,
        3,
        retry_share=0.5,  # 4 of the 8 activities are posted twice
        fault_every=3,
        timeout_s=30,
        late_s=0.3,
    )
    assert result.retries == 4 and len(result.acks_ms) == 12
    assert not result.bad_status
    assert result.answered == 8 and result.lost == 0 and result.duplicated == 0
    assert result.personal == 4  # and 4 channel posts, each its own thread
    assert sum(1 for c in result.sent_at if c.startswith("19:")) == 4
    assert result.faults >= 2  # injected, met, and retried by the app
    assert not result.notices
    assert result.elapsed > 0 and result.rate > 0
    # the figures print, and the verdict follows them (the rate is not held to its target
    # with faults)
    code = bench.report(result, 100.0, faults=True)
    out = capsys.readouterr().out
    assert "lost answers          0" in out and "duplicated answers    0" in out
    assert "Connector faults" in out
    assert code == (0 if bench.percentile(result.acks_ms, 99) <= bench.ACK_P99_TARGET_MS else 1)


def test_a_burst_is_answered_too(teams: TeamsHarness) -> None:
    result = bench.drive(
        teams.standin, url(teams), question_texts(), 6, 6, burst=True, timeout_s=30, late_s=0.2
    )
    assert result.answered == 6 and result.duplicated == 0 and result.burst


def test_the_verdict_counts_lost_duplicated_and_slow() -> None:
    def result(**changes: object) -> bench.Result:
        r = bench.Result(2, 2, acks_ms=[5.0, 6.0], sent_at={"a": 0.0, "b": 0.0})
        r.answered_at = {"a": 0.01, "b": 0.02}
        r.answers = Counter({"a": 1, "b": 1})
        for name, value in changes.items():
            setattr(r, name, value)
        return r

    assert bench.report(result(), 1.0, faults=False) == 0  # 100 answered/s, fast acks
    assert bench.report(result(answered_at={"a": 0.01}), 1.0, faults=False) == 1  # lost
    assert bench.report(result(answers=Counter({"a": 2, "b": 1})), 1.0, faults=False) == 1
    assert bench.report(result(acks_ms=[5.0, 500.0]), 1.0, faults=False) == 1
    assert bench.report(result(bad_status=Counter({500: 1})), 1.0, faults=False) == 1
    slow = result(answered_at={"a": 1.0, "b": 2.0})  # 1 answered/s
    assert bench.report(slow, 1.0, faults=False) == 1
    assert bench.report(slow, 1.0, faults=True) == 0  # no rate target with faults

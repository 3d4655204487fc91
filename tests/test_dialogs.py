"""The dialog engine and the NDA dialog without any platform, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.dialogs.engine import DialogEngine, DialogError
from bot.dialogs.spec import GENERAL, REVIEW
from bot.dialogs.specs import DIALOGS
from bot.drafting.nda_fields import NdaAnswers
from bot.store.db import open_database
from bot.store.dialogs import DialogStore

OWNER = "slack:T0TEST:U0ALICE"

MINIMAL: dict[str, dict[str, Any]] = {
    "parties": {"disclosing_party": "株式会社委託元", "receiving_party": "株式会社委託先"},
    "purpose": {"purpose": "顧客管理システムの開発委託の検討"},
    "scope": {},
    "handlers": {},
    "storage": {},
    "disposal": {},
    "personal": {"personal_data": "false"},
    "third_party": {},
    "breach": {},
    "term": {"effective_date": "2027-04-01"},
}


@pytest.fixture()
def engine(database_url: str) -> DialogEngine:
    return DialogEngine(DIALOGS, DialogStore(open_database(database_url), ttl_s=3600))


def run_through(
    engine: DialogEngine, answers: dict[str, dict[str, Any]], owner: str = OWNER
) -> Any:
    state, _ = engine.start("nda", owner, fresh=True)
    while not state.at_review:
        state = engine.submit(
            state.id, owner, state.version, state.step, answers.get(state.step, {})
        )
        assert not state.errors, (state.step, state.errors)
    return state


def test_minimal_run_uses_recommended_defaults(engine: DialogEngine) -> None:
    state = run_through(engine, MINIMAL)
    assert state.step == REVIEW
    steps = [s.id for s in state.spec.visible(state.answers)]
    assert "personal_detail" not in steps  # skipped: no personal data
    finished, model = engine.finish(state.id, OWNER, state.version)
    assert isinstance(model, NdaAnswers)
    assert model.definition == "all" and model.third_party == "prior_written_consent"
    assert model.breach_report_hours == 24 and str(model.effective_date) == "2027-04-01"
    assert finished.row.status == "finished"
    summary = dict(finished.summary())
    assert summary["秘密情報の範囲"] == "開示した一切の情報（案B）"


def test_personal_data_adds_a_step_and_drops_it_again(engine: DialogEngine) -> None:
    answers = {
        **MINIMAL,
        "personal": {"personal_data": "true"},
        "personal_detail": {
            "personal_data_items": "氏名、住所",
            "personal_data_count": "1200",
            "my_number": "true",
        },
    }
    state = run_through(engine, answers)
    assert "personal_detail" in [s.id for s in state.spec.visible(state.answers)]
    # go back to the personal step, say no: the details no longer count
    state = engine.goto(state.id, OWNER, state.version, "personal")
    state = engine.submit(state.id, OWNER, state.version, "personal", {"personal_data": "false"})
    assert state.step == "third_party"
    state = run_through_from(engine, state, MINIMAL)
    _, model = engine.finish(state.id, OWNER, state.version)
    assert isinstance(model, NdaAnswers)
    assert (
        model.personal_data is False
        and model.my_number is False
        and model.personal_data_items is None
    )


def run_through_from(engine: DialogEngine, state: Any, answers: dict[str, dict[str, Any]]) -> Any:
    while not state.at_review:
        state = engine.submit(
            state.id, OWNER, state.version, state.step, answers.get(state.step, {})
        )
    return state


@pytest.mark.parametrize(
    ("step", "raw", "field", "expected"),
    [
        (
            "parties",
            {"disclosing_party": "", "receiving_party": "乙"},
            "disclosing_party",
            "入力してください",
        ),
        (
            "parties",
            {"disclosing_party": "甲" * 101, "receiving_party": "乙"},
            "disclosing_party",
            "100文字以内",
        ),
        (
            "parties",
            {"disclosing_party": "<!channel> 甲", "receiving_party": "乙"},
            "disclosing_party",
            "メンション",
        ),
        (
            "parties",
            {"disclosing_party": "甲", "receiving_party": "<@U0BOB>"},
            "receiving_party",
            "メンション",
        ),
        (
            "parties",
            {"disclosing_party": "甲", "receiving_party": "<https://evil.example|乙>"},
            "receiving_party",
            "リンク",
        ),
        (
            "parties",
            {"disclosing_party": "甲", "receiving_party": "乙", "direction": "sideways"},
            "direction",
            "選択肢",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_beside_the_field(
    engine: DialogEngine, step: str, raw: dict[str, Any], field: str, expected: str
) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    after = engine.submit(state.id, OWNER, state.version, step, raw)
    assert after.step == step and after.version == state.version  # nothing saved
    assert expected in after.errors[field]


@pytest.mark.parametrize(
    ("raw", "field", "expected"),
    [
        ({"effective_date": "2027-02-30"}, "effective_date", "存在する日付"),
        ({"effective_date": "1999-12-31"}, "effective_date", "2000年から2100年"),
        ({"effective_date": "2027-04-01", "term_years": "0"}, "term_years", "1以上"),
        ({"effective_date": "2027-04-01", "term_years": "99"}, "term_years", "10以下"),
        ({"effective_date": "2027-04-01", "survival_years": "三"}, "survival_years", "半角数字"),
    ],
)
def test_impossible_dates_and_terms(
    engine: DialogEngine, raw: dict[str, Any], field: str, expected: str
) -> None:
    state = run_through(engine, {**MINIMAL, "term": {"effective_date": "2027-04-01"}})
    state = engine.goto(state.id, OWNER, state.version, "term")
    after = engine.submit(state.id, OWNER, state.version, "term", raw)
    assert expected in after.errors[field]


def test_cross_field_rule_is_checked_at_its_step(engine: DialogEngine) -> None:
    state = run_through(engine, MINIMAL)
    state = engine.goto(state.id, OWNER, state.version, "handlers")
    after = engine.submit(state.id, OWNER, state.version, "handlers", {"handlers_scope": "named"})
    assert "取扱者を限る" in after.errors[GENERAL]
    ok = engine.submit(
        state.id, OWNER, state.version, "handlers", {"handlers_scope": "named", "max_handlers": "5"}
    )
    assert not ok.errors and ok.answers["max_handlers"] == 5


def test_back_and_forward_keep_answers(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    state = engine.submit(state.id, OWNER, state.version, "parties", MINIMAL["parties"])
    state = engine.back(state.id, OWNER, state.version)
    assert state.step == "parties" and state.value("receiving_party") == "株式会社委託先"
    first = engine.back(state.id, OWNER, state.version)
    assert first.step == "parties"  # nothing before the first step


def test_stale_and_double_submissions_are_refused(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    engine.submit(state.id, OWNER, state.version, "parties", MINIMAL["parties"])
    with pytest.raises(DialogError, match="古く"):
        engine.submit(state.id, OWNER, state.version, "parties", MINIMAL["parties"])


def test_simultaneous_submissions_record_one(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    start = threading.Barrier(6)

    def submit(_: int) -> str:
        start.wait()
        try:
            engine.submit(state.id, OWNER, state.version, "parties", MINIMAL["parties"])
            return "ok"
        except DialogError:
            return "refused"

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(submit, range(6)))
    assert results.count("ok") == 1


def test_someone_elses_dialog_is_refused(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    with pytest.raises(DialogError, match="別の人"):
        engine.submit(
            state.id, "slack:T0TEST:U0MALLORY", state.version, "parties", MINIMAL["parties"]
        )


def test_unfinished_dialog_resumes_after_a_restart(database_url: str) -> None:
    first = DialogEngine(DIALOGS, DialogStore(open_database(database_url), ttl_s=3600))
    state, _ = first.start("nda", OWNER, fresh=True)
    state = first.submit(state.id, OWNER, state.version, "parties", MINIMAL["parties"])
    second = DialogEngine(
        DIALOGS, DialogStore(open_database(database_url), ttl_s=3600)
    )  # a restart
    resumed, was_resumed = second.start("nda", OWNER)
    assert was_resumed and resumed.id == state.id and resumed.step == "purpose"
    fresh, was_resumed = second.start("nda", OWNER, fresh=True)
    assert not was_resumed and fresh.id != state.id
    with pytest.raises(DialogError):
        second.load(state.id, OWNER)  # the old one was cancelled


def test_dialogs_expire(database_url: str) -> None:
    engine = DialogEngine(DIALOGS, DialogStore(open_database(database_url), ttl_s=0.2))
    state, _ = engine.start("nda", OWNER, fresh=True)
    time.sleep(0.3)
    with pytest.raises(DialogError, match="期限切れ"):
        engine.submit(state.id, OWNER, state.version, "parties", MINIMAL["parties"])
    again, resumed = engine.start("nda", OWNER)
    assert not resumed and again.id != state.id


def test_reopen_a_finished_dialog_keeps_answers(engine: DialogEngine) -> None:
    state = run_through(engine, MINIMAL)
    finished, _ = engine.finish(state.id, OWNER, state.version)
    with pytest.raises(DialogError, match="完了"):
        engine.finish(state.id, OWNER, finished.version)
    reopened = engine.reopen(state.id, OWNER)
    assert reopened.at_review and reopened.value("receiving_party") == "株式会社委託先"
    with pytest.raises(DialogError):
        engine.reopen(state.id, "slack:T0TEST:U0MALLORY")


def test_cancel(engine: DialogEngine) -> None:
    state, _ = engine.start("nda", OWNER, fresh=True)
    engine.cancel(state.id, OWNER)
    with pytest.raises(DialogError, match="中止"):
        engine.load(state.id, OWNER)


def test_every_field_is_asked_in_exactly_one_step() -> None:
    spec = DIALOGS["nda"]
    asked = [n for s in spec.steps for n in s.fields]
    assert sorted(asked) == sorted(NdaAnswers.model_fields)
    for f in spec.fields.values():
        assert f.label and (f.kind != "choice" or f.options)


def test_personal_data_typed_into_free_text_is_not_kept(engine: DialogEngine) -> None:
    """A purpose needs no personal data: what was typed there is masked before it is stored."""
    purpose = "営業部の佐藤花子（hanako.sato@example.jp、080-1111-2222）が担当する顧客管理の委託"
    state = run_through(engine, {**MINIMAL, "purpose": {"purpose": purpose}})
    stored = engine.store.get(state.id)
    assert stored is not None
    text = str(stored.answers)
    for value in ("佐藤", "hanako.sato", "080-1111-2222"):
        assert value not in text
    assert (
        "[EMAIL_1]" in stored.answers["purpose"] and "顧客管理の委託" in stored.answers["purpose"]
    )

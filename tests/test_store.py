"""The relational store on SQLite and PostgreSQL: migrations, once-only claims under
concurrency (threads and separate engines, as several replicas), votes and the gap report."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select

from bot.store.answers import AnswerLog, pseudonym_key, question_key, voter_pseudonym
from bot.store.db import open_database
from bot.store.events import ClaimResult, EventLedger
from bot.store.tables import ProcessedEvent, Vote


def test_migrations_create_the_schema_and_are_idempotent(database_url: str) -> None:
    db = open_database(database_url)
    open_database(database_url).dispose()  # a second replica starting: nothing to do
    tables = set(inspect(db.engine).get_table_names())
    assert {"answers", "votes", "processed_events", "alembic_version"} <= tables
    db.dispose()


def test_replicas_migrating_at_once(database_url: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        dbs = list(pool.map(lambda _: open_database(database_url), range(4)))
    assert all("answers" in inspect(d.engine).get_table_names() for d in dbs)
    for d in dbs:
        d.dispose()


def test_one_claim_wins_among_replicas(database_url: str) -> None:
    """Eight replicas (own engines) receive the same event at the same moment."""
    replicas = [EventLedger(open_database(database_url, migrate=i == 0)) for i in range(8)]
    start = threading.Barrier(len(replicas))

    def claim(ledger: EventLedger) -> ClaimResult:
        start.wait()
        return ledger.claim("EvSAME", "question", {"q": 1}, "msg:T:C:1")

    with ThreadPoolExecutor(len(replicas)) as pool:
        results = list(pool.map(claim, replicas))
    assert results.count(ClaimResult.NEW) == 1
    assert results.count(ClaimResult.DUPLICATE) == 7
    for ledger in replicas:
        ledger.db.dispose()


def test_dedupe_key_catches_a_second_event_about_one_message(database_url: str) -> None:
    ledger = EventLedger(open_database(database_url))
    assert ledger.claim("Ev1", "question", None, "msg:T:D:1") is ClaimResult.NEW
    assert ledger.claim("Ev2", "question", None, "msg:T:D:1") is ClaimResult.DUPLICATE
    assert ledger.claim("Ev3", "question", None, "msg:T:D:2") is ClaimResult.NEW


def test_expired_lease_is_taken_over_by_exactly_one(database_url: str) -> None:
    db = open_database(database_url)
    ledger = EventLedger(db, lease_s=0.2)
    ledger.claim("EvLOST", "question", {"question": "q"})
    assert ledger.claim("EvLOST", "question") is ClaimResult.DUPLICATE  # still leased
    assert ledger.stale() == []
    time.sleep(0.3)
    assert ledger.stale() == ["EvLOST"]
    others = [
        EventLedger(open_database(database_url, migrate=False), lease_s=0.2) for _ in range(6)
    ]
    start = threading.Barrier(len(others))

    def take(led: EventLedger) -> bool:
        start.wait()
        return led.take_over("EvLOST")

    with ThreadPoolExecutor(len(others)) as pool:
        assert sum(pool.map(take, others)) == 1
    pending = ledger.resolve("EvLOST")
    assert pending is not None and pending.attempts == 2 and pending.payload == {"question": "q"}
    ledger.set_reply_ref("EvLOST", "1.000001")
    assert ledger.resolve("EvLOST").reply_ref == "1.000001"  # type: ignore[union-attr]
    ledger.finish("EvLOST")
    assert ledger.resolve("EvLOST") is None
    time.sleep(0.3)
    assert ledger.claim("EvLOST", "question") is ClaimResult.DUPLICATE  # finished stays finished
    with db.session() as s:
        row = s.execute(select(ProcessedEvent)).scalar_one()
        assert row.payload is None and row.status == "done"
    for o in others:
        o.db.dispose()


def test_purge_forgets_old_finished_events(database_url: str) -> None:
    db = open_database(database_url)
    ledger = EventLedger(db)
    ledger.claim("EvOLD", "question")
    ledger.claim("EvPENDING", "question")
    ledger.finish("EvOLD")
    with db.session() as s:
        for row in s.execute(select(ProcessedEvent)).scalars():
            row.claimed_at = datetime.now(UTC) - timedelta(days=40)
    assert ledger.purge(30) == 1
    assert ledger.resolve("EvPENDING") is not None


def _record(log: AnswerLog, question: str, abstained: bool, conversation: str | None = None) -> str:
    return log.record(
        surface="dm",
        conversation=conversation,
        question=question,
        lang="ja",
        abstained=abstained,
        reason="not_covered" if abstained else None,
        confidence=0.1,
        answer={"answer": "…"},
        trace={"hits": []},
    )


def test_votes_one_per_person_and_pseudonymous(database_url: str) -> None:
    log = AnswerLog(open_database(database_url))
    answer_id = _record(log, "再委託の条件は？", False)
    with ThreadPoolExecutor(8) as pool:  # a burst of double clicks
        assert all(pool.map(lambda _: log.vote(answer_id, "U0ALICE", False), range(16)))
    assert log.vote(answer_id, "U0ALICE", True)
    assert not log.vote("f" * 32, "U0ALICE", True)
    [gap] = [g for g in log.gaps() if g.question == "再委託の条件は？"] or [None]
    assert gap is None  # helpful now: not a gap
    key = pseudonym_key(log.db)
    assert voter_pseudonym(answer_id, "U0ALICE", key) != voter_pseudonym("0" * 32, "U0ALICE", key)


def test_the_vote_pseudonym_cannot_be_reversed_by_trying_user_ids(database_url: str) -> None:
    """Trying every user id of a workspace against the table finds nobody without the key."""
    log = AnswerLog(open_database(database_url))
    answer_id = _record(log, "再委託の条件は？", False)
    candidates = [f"U0{n:04d}" for n in range(12)]
    assert log.vote(answer_id, candidates[7], True)
    with log.db.session() as s:
        stored = s.execute(select(Vote.voter)).scalar_one()
    unkeyed = {
        hashlib.sha256(f"itaku-vote:{answer_id}:{u}".encode()).hexdigest(): u for u in candidates
    }
    assert stored not in unkeyed
    guessed_key = hashlib.sha256(b"guess").digest()
    assert stored not in {voter_pseudonym(answer_id, u, guessed_key) for u in candidates}
    assert stored == voter_pseudonym(answer_id, candidates[7], pseudonym_key(log.db))


def test_gap_report_most_frequent_first(database_url: str) -> None:
    log = AnswerLog(open_database(database_url))
    for _ in range(3):
        _record(log, "GDPRの制裁金は？", True)
    _record(log, "ＧＤＰＲの制裁金は?", True)  # same question, other width and punctuation
    weak = _record(log, "監査の頻度は？", False)
    log.vote(weak, "U1", False)
    _record(log, "NDAの期間は？", False)  # answered, no votes: not a gap
    gaps = log.gaps()
    assert [(g.asked, g.refused, g.unhelpful) for g in gaps] == [(4, 4, 0), (1, 0, 1)]
    assert question_key(gaps[0].question) == question_key("gdprの制裁金は")
    assert log.gaps(since=datetime.now(UTC) + timedelta(minutes=1)) == []


def test_thread_history_oldest_first(database_url: str) -> None:
    log = AnswerLog(open_database(database_url))
    for q in ("一つ目", "二つ目", "三つ目", "四つ目"):
        _record(log, q, False, conversation="slack:T:C:1")
        time.sleep(0.002)
    _record(log, "別スレッド", False, conversation="slack:T:C:2")
    assert log.history("slack:T:C:1", 3) == ["二つ目", "三つ目", "四つ目"]
    assert log.history("slack:T:C:1", 0) == []


def _claim_in_a_process(url: str) -> str:
    from bot.store.db import open_database
    from bot.store.events import EventLedger

    db = open_database(url)  # each process migrates too, as a starting replica does
    try:
        return EventLedger(db).claim("EvPROC", "question", None, "msg:T:C:9").value
    finally:
        db.dispose()


def test_one_claim_wins_among_processes(database_url: str) -> None:
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_claim_in_a_process, [database_url] * 4)
    assert sorted(results) == ["duplicate", "duplicate", "duplicate", "new"]


def test_migrations_match_the_table_definitions(database_url: str) -> None:
    """A change to tables.py without its migration would show here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.tables import Base

    db = open_database(database_url)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    db.dispose()


def test_database_errors_never_carry_the_statements_values(database_url: str) -> None:
    """An error names its class and statement, never the values (ids, channels, text)."""
    from sqlalchemy.exc import SQLAlchemyError

    db = open_database(database_url)
    secret = "社外秘の値-" + "x" * 300
    try:
        with db.session() as s:
            s.add(ProcessedEvent(key=secret, kind="x", status="pending"))
            s.flush()
            s.add(ProcessedEvent(key=secret, kind="x", status="pending"))  # duplicate key
            s.flush()
    except SQLAlchemyError as e:
        assert secret not in str(e) and "x" * 50 not in str(e)
    else:
        raise AssertionError("the duplicate key was accepted")


def test_retention_purges_old_answers_votes_and_events(database_url: str) -> None:
    from sqlalchemy import update

    from bot.store.tables import AnswerRecord

    db = open_database(database_url)
    log, ledger = AnswerLog(db), EventLedger(db)
    old = _record(log, "古い質問：山田さんの件", False)
    new = _record(log, "新しい質問", False)
    assert log.vote(old, "U0ALICE", True) and log.vote(new, "U0ALICE", True)
    for key in ("EvOLD", "EvNEW"):
        ledger.claim(key, "question")
        ledger.finish(key)
    ledger.claim("EvPENDING", "question")
    long_ago = datetime.now(UTC) - timedelta(days=400)
    with db.session() as s:
        s.execute(update(AnswerRecord).where(AnswerRecord.id == old).values(created_at=long_ago))
        s.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.key.in_(["EvOLD", "EvPENDING"]))
            .values(claimed_at=long_ago)
        )
    assert log.purge(180) == 1
    assert ledger.purge(180) == 1  # a pending event is never dropped, however old
    with db.session() as s:
        assert s.execute(select(AnswerRecord.id)).scalars().all() == [new]
        assert s.execute(select(Vote.answer_id)).scalars().all() == [new]
        keys = set(s.execute(select(ProcessedEvent.key)).scalars())
    assert keys == {"EvNEW", "EvPENDING"}
    assert log.purge(180) == 0  # twice (two replicas) deletes nothing more


def test_personal_data_in_questions_is_masked_at_rest(database_url: str) -> None:
    from bot.store.tables import AnswerRecord

    log = AnswerLog(open_database(database_url))
    question = "山田太郎さん（taro.yamada@example.co.jp、090-1234-5678）のマイナンバー123456789018を委託先に渡していい？"
    answer_id = log.record(
        surface="dm",
        conversation="slack:T:D:1",
        question=question,
        lang="ja",
        abstained=False,
        reason=None,
        confidence=0.9,
        answer={
            "question": question,
            "answer": "taro.yamada@example.co.jp の件は、委託先の監督が必要である。",
        },
        trace={"query": question, "hits": [{"chunk": "c1"}]},
    )
    with log.db.session() as s:
        row = s.get(AnswerRecord, answer_id)
        assert row is not None
        stored = json.dumps(
            [row.question, row.answer, row.trace, row.question_key], ensure_ascii=False
        )
    for value in ("山田", "taro.yamada", "090-1234-5678", "123456789018"):
        assert value not in stored
    assert "[EMAIL_1]" in row.question and "委託先の監督が必要である。" in stored
    gaps_text = json.dumps([g.question for g in log.gaps()], ensure_ascii=False)
    assert "taro.yamada" not in gaps_text

"""Answered questions, their retrieval traces, votes, and the knowledge-gap report."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.knowledge.text import normalize
from bot.llm.pii import Masker
from bot.store.db import Database, rowcount
from bot.store.tables import AnswerRecord, Vote, utcnow

_NOT_KEY = re.compile(r"[\s\W_]+")


def question_key(question: str) -> str:
    """Questions that differ only in spacing, width, case or punctuation group together."""
    return _NOT_KEY.sub("", normalize(question).lower())[:200] or "-"


def voter_pseudonym(answer_id: str, user_id: str, key: bytes) -> str:
    """One-way, per answer, keyed: the same person votes once on an answer, and nobody can tell
    from the table who voted or link one person's votes across answers, not even by trying
    every user id of the workspace (that needs the key, which is not in the database)."""
    return hmac.new(key, f"itaku-vote:{answer_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


class _OnceMasker(Masker):
    """A masker that analyses each distinct text once: the question recurs in the answer and
    the trace, and finding personal data (a morphological analysis) is the costly part."""

    def __init__(self) -> None:
        super().__init__()
        self._done: dict[str, str] = {}

    def mask(self, text: str) -> str:
        if text not in self._done:
            self._done[text] = super().mask(text)
        return self._done[text]


_QUESTION_FIELDS = frozenset({"question", "query", "rewritten", "history"})


def _mask_questions(value: Any, masker: Masker) -> Any:
    """The user's words wherever a record keeps them (question, query, history), masked."""
    if isinstance(value, dict):
        return {
            k: _mask_all(v, masker) if k in _QUESTION_FIELDS else _mask_questions(v, masker)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_questions(v, masker) for v in value]
    return value


def _mask_all(value: Any, masker: Masker) -> Any:
    if isinstance(value, str):
        return masker.mask(value)
    if isinstance(value, list):
        return [_mask_all(v, masker) for v in value]
    if isinstance(value, dict):
        return {k: _mask_all(v, masker) for k, v in value.items()}
    return value


def pseudonym_key(db: Database) -> bytes:
    """The vote pseudonyms' key: derived from the audit key (ITAKU_AUDIT_KEY), a secret that is
    never stored in the database."""
    from bot.store.audit import seal_of

    return hmac.new(seal_of(db).key, b"itaku vote pseudonym", hashlib.sha256).digest()


@dataclass(frozen=True)
class StoredAnswer:
    id: str
    surface: str
    conversation: str | None
    lang: str
    question: str
    abstained: bool
    answer: dict[str, Any]


@dataclass(frozen=True)
class Gap:
    question: str
    asked: int
    refused: int
    unhelpful: int
    helpful: int
    last_asked: datetime

    @property
    def weight(self) -> int:
        return self.refused + self.unhelpful


class AnswerLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        *,
        surface: str,
        conversation: str | None,
        question: str,
        lang: str,
        abstained: bool,
        reason: str | None,
        confidence: float,
        answer: dict[str, Any],
        trace: dict[str, Any],
        answer_id: str | None = None,
    ) -> str:
        answer_id = answer_id or uuid.uuid4().hex
        # personal data in a question is not kept: e-mail, phone, My Number, card and account
        # numbers, addresses and names become placeholders ([EMAIL_1], [NAME_1]) at rest
        masker = _OnceMasker()
        question = masker.mask(question)
        answer = _mask_questions(answer, masker)
        trace = _mask_questions(trace, masker)
        if isinstance(answer.get("answer"), str):  # an LLM answer may repeat the question's data
            answer = {**answer, "answer": masker.mask_known(answer["answer"])}
        with self.db.session() as s:
            s.add(
                AnswerRecord(
                    id=answer_id,
                    surface=surface,
                    conversation=conversation,
                    question=question,
                    question_key=question_key(question),
                    lang=lang,
                    abstained=abstained,
                    reason=reason,
                    confidence=confidence,
                    answer=answer,
                    trace=trace,
                    created_at=utcnow(),
                )
            )
        return answer_id

    def get(self, answer_id: str) -> StoredAnswer | None:
        with self.db.session() as s:
            row = s.get(AnswerRecord, answer_id)
            if row is None:
                return None
            return StoredAnswer(
                row.id,
                row.surface,
                row.conversation,
                row.lang,
                row.question,
                row.abstained,
                row.answer,
            )

    def history(
        self, conversation: str, limit: int = 3, since: datetime | None = None
    ) -> list[str]:
        """The conversation's earlier questions (asked since `since`, if given), oldest first."""
        if limit <= 0:
            return []
        stmt = select(AnswerRecord.question).where(AnswerRecord.conversation == conversation)
        if since is not None:
            stmt = stmt.where(AnswerRecord.created_at >= since)
        with self.db.session() as s:
            rows = s.execute(stmt.order_by(AnswerRecord.created_at.desc()).limit(limit)).scalars()
            return list(rows)[::-1]

    def purge(self, older_than_days: float) -> int:
        """Forget answers (their questions, traces and votes) older than the retention period;
        returns how many answers went."""
        cutoff = utcnow() - timedelta(days=older_than_days)
        with self.db.session() as s:
            old = select(AnswerRecord.id).where(AnswerRecord.created_at < cutoff)
            s.execute(delete(Vote).where(Vote.answer_id.in_(old)))  # SQLite: no cascade by default
            return rowcount(s.execute(delete(AnswerRecord).where(AnswerRecord.created_at < cutoff)))

    def vote(self, answer_id: str, user_id: str, helpful: bool) -> bool:
        """Record (or change) one person's vote on an answer. False if the answer is unknown."""
        voter = voter_pseudonym(answer_id, user_id, pseudonym_key(self.db))
        values = {"answer_id": answer_id, "voter": voter, "helpful": helpful, "voted_at": utcnow()}
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        stmt = insert(Vote).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Vote.answer_id, Vote.voter],
            set_={"helpful": helpful, "voted_at": values["voted_at"]},
        )
        with self.db.session() as s:
            if s.get(AnswerRecord, answer_id) is None:
                return False
            s.execute(stmt)
        return True

    def gaps(self, limit: int = 20, since: datetime | None = None) -> list[Gap]:
        """Questions refused or voted unhelpful, most frequent first."""
        votes = (
            select(
                Vote.answer_id,
                func.sum(case((Vote.helpful.is_(False), 1), else_=0)).label("down"),
                func.sum(case((Vote.helpful.is_(True), 1), else_=0)).label("up"),
            )
            .group_by(Vote.answer_id)
            .subquery()
        )
        refused = func.sum(case((AnswerRecord.abstained.is_(True), 1), else_=0))
        down = func.coalesce(func.sum(votes.c.down), 0)
        up = func.coalesce(func.sum(votes.c.up), 0)
        stmt = (
            select(
                AnswerRecord.question_key,
                func.min(AnswerRecord.question),
                func.count(AnswerRecord.id),
                refused,
                down,
                up,
                func.max(AnswerRecord.created_at),
            )
            .outerjoin(votes, votes.c.answer_id == AnswerRecord.id)
            .group_by(AnswerRecord.question_key)
            .having((refused + down) > 0)
            .order_by((refused + down).desc(), func.count(AnswerRecord.id).desc())
            .limit(limit)
        )
        if since is not None:
            stmt = stmt.where(AnswerRecord.created_at >= since)
        with self.db.session() as s:
            return [
                Gap(q, int(n), int(r), int(d), int(u), last)
                for _, q, n, r, d, u, last in s.execute(stmt).all()
            ]

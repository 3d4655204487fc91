"""Answering inside a conversation: the thread's earlier questions give follow-ups their context,
and every answer is recorded with its retrieval trace so votes and the gap report can use it.
Platform-neutral: Slack, the terminal and Teams pass plain strings and ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.assistant.models import Answer
from bot.assistant.service import Assistant
from bot.knowledge.search import Hit
from bot.store.answers import AnswerLog, Gap


@dataclass(frozen=True)
class RecordedAnswer:
    answer: Answer
    answer_id: str


def trace_of(
    answer: Answer, hits: list[Hit], generation: int, context_turns: int = 0
) -> dict[str, object]:
    return {
        "generation": generation,
        "context_turns": context_turns,
        "latency_ms": answer.latency_ms,
        "confidence": answer.confidence,
        "cited": [c.source for c in answer.citations],
        "hits": [
            {
                "chunk": h.chunk.id,
                "source": h.chunk.source,
                "section": h.chunk.section,
                "score": round(h.score, 4),
                "coverage": round(h.coverage, 3),
            }
            for h in hits
        ],
    }


class ConversationDesk:
    def __init__(self, assistant: Assistant, log: AnswerLog, history_turns: int = 3) -> None:
        self.assistant = assistant
        self.log = log
        self.history_turns = history_turns

    def answer(
        self,
        question: str,
        *,
        surface: str,
        conversation: str | None,
        context_window_s: float | None = None,
        on_delta: Callable[[str], None] | None = None,
        answer_id: str | None = None,
    ) -> RecordedAnswer:
        """`context_window_s` limits the context to recent questions (a DM's main channel, where
        a question an hour later is a new subject); a thread's context has no time limit."""
        since = (
            datetime.now(UTC) - timedelta(seconds=context_window_s)
            if context_window_s is not None
            else None
        )
        history = (
            self.log.history(conversation, self.history_turns, since)
            if conversation is not None
            else []
        )
        answer, hits = self.assistant.respond(question, history or None, on_delta)
        answer_id = self.log.record(
            surface=surface,
            conversation=conversation,
            question=question,
            lang=answer.lang,
            abstained=answer.abstained,
            reason=answer.reason,
            confidence=answer.confidence,
            answer=answer.model_dump(mode="json"),
            trace=trace_of(answer, hits, self.assistant.kb.generation, len(history)),
            answer_id=answer_id,
        )
        return RecordedAnswer(answer, answer_id)

    def stored(self, answer_id: str) -> Answer | None:
        record = self.log.get(answer_id)
        return Answer.model_validate(record.answer) if record is not None else None

    def vote(self, answer_id: str, user_id: str, helpful: bool) -> bool:
        return self.log.vote(answer_id, user_id, helpful)

    def gaps(self, limit: int = 20) -> list[Gap]:
        return self.log.gaps(limit)

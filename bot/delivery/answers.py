"""Answering questions for a platform: few answers computed at once, and a question event's
answer recorded once, whatever the number of attempts or replicas."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from bot.assistant.conversation import ConversationDesk, RecordedAnswer
from bot.assistant.models import Answer
from bot.store.events import EventLedger, PendingEvent


class Answering:
    def __init__(
        self, desk: ConversationDesk, ledger: EventLedger, compute: threading.BoundedSemaphore
    ) -> None:
        self.desk = desk
        self.ledger = ledger
        # Answering is CPU-bound (offline) while delivering mostly waits on the platform: many
        # delivery workers, few answers computed at once, so waiting never starves the acks.
        self.compute = compute

    def answer(self, question: str, **kwargs: Any) -> RecordedAnswer:
        with self.compute:
            return self.desk.answer(question, **kwargs)

    def for_event(
        self,
        pending: PendingEvent,
        on_delta: Callable[[str], None] | None,
        on_failure: Callable[[], None],
    ) -> tuple[Answer, str]:
        """(answer, its id) for a question event. The id is recorded before the answer: a
        resumed attempt records under the same id (or finds the answer already recorded), never
        a second row. If answering fails, `on_failure` tells the user and the event is failed."""
        p = pending.payload
        answer_id = pending.answer_id or uuid.uuid4().hex
        if pending.answer_id is None:
            self.ledger.set_answer(pending.key, answer_id)
        answer = self.desk.stored(answer_id)
        if answer is None:
            try:
                recorded = self.answer(
                    p["question"],
                    surface=p["surface"],
                    conversation=p["conversation"],
                    context_window_s=p["context_window_s"],
                    on_delta=on_delta,
                    answer_id=answer_id,
                )
            except Exception:
                on_failure()
                self.ledger.finish(pending.key, "failed")
                raise
            answer = recorded.answer
        return answer, answer_id

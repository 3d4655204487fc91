"""The event ledger's use, the same on every platform: a listener claims an event and queues its
work (the platform gets its acknowledgement at once); a worker does the work and marks the event
done. A delivery the platform cannot take now (rate limit, outage, dropped connection) is tried
again in this process after pauses, then left to the lease: a retry from the platform or any
replica's sweeper resumes it. A delivery the platform refuses for good is recorded as failed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.delivery.runner import JobRunner
from bot.store.events import ClaimResult, EventLedger, PendingEvent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # an event taken over this many times is given up (and logged)
# after the client's own retries, a still-failing delivery is tried again in this process after
# these pauses, before it is left to the lease (a platform retry or another replica's sweeper)
REATTEMPT_DELAYS_S = (2.0, 8.0, 30.0)


@dataclass(frozen=True)
class Failure:
    """A delivery's failure as the adapter reads its platform's error."""

    retry: bool  # the platform cannot take it now (rate limit, 5xx, connection); else refused
    why: str  # for the log: "HTTP 503", "ConnectionResetError", the platform's error code


Work = Callable[[PendingEvent], None]  # the work for a claimed event (it raises on failure)
ReadFailure = Callable[[Exception], Failure | None]  # None: not a delivery failure (a bug)


class EventWork:
    def __init__(
        self,
        ledger: EventLedger,
        runner: JobRunner,
        work: Mapping[str, Work],
        *,
        platform: str,
        failure: ReadFailure,
        reattempt_delays: tuple[float, ...] = REATTEMPT_DELAYS_S,
    ) -> None:
        self.ledger = ledger
        self.runner = runner
        self.work = dict(work)  # by event kind; other kinds carry no work worth redoing late
        self.platform = platform
        self.failure = failure
        self.reattempt_delays = reattempt_delays

    def take(
        self, key: str, kind: str, payload: dict[str, object], dedupe_key: str | None = None
    ) -> bool:
        """Claim an event and queue its work. False when it is a duplicate (a platform retry,
        or a second event about the same message)."""
        if self.ledger.claim(key, kind, payload, dedupe_key) is ClaimResult.DUPLICATE:
            log.info("duplicate event %s ignored", key)
            return False
        self.runner.submit(self.attempt, key)
        return True

    def attempt(self, key: str, attempt: int = 0) -> None:
        """Do an event's work and mark it done; a delivery failure is tried again or recorded."""
        try:
            pending = self.ledger.resolve(key)
            if pending is None:  # finished meanwhile
                return
            self.work[pending.kind](pending)
            self.ledger.finish(key)
        except Exception as e:
            failure = self.failure(e)
            if failure is None:
                raise
            if failure.retry:
                self._reattempt(key, attempt, failure.why)
                return
            # the platform refused for good (channel gone, bot removed, message too long...):
            # retrying cannot help, so record it and stop
            self.ledger.finish(key, "failed")
            log.error("event %s refused by %s: %s", key, self.platform, failure.why)

    def _reattempt(self, key: str, attempt: int, why: str) -> None:
        if attempt < len(self.reattempt_delays):
            delay = self.reattempt_delays[attempt]
            log.warning(
                "event %s: %s unavailable (%s); trying again in %.0f s",
                key,
                self.platform,
                why,
                delay,
            )
            self.runner.submit_later(delay, self.attempt, key, attempt + 1)
        else:  # still pending: the lease lets a platform retry or a sweeper finish it
            log.error(
                "event %s: %s unavailable (%s); left for a later attempt", key, self.platform, why
            )

    def resume(self, key: str) -> None:
        """Resume an event taken over from a crashed owner (see JobRunner.start_sweeper)."""
        pending = self.ledger.resolve(key)
        if pending is None:
            return
        if pending.attempts > MAX_ATTEMPTS:
            self.ledger.finish(key, "failed")
            log.error("event %s given up after %d attempts", key, pending.attempts)
        elif pending.kind in self.work:
            self.attempt(key)
        else:  # other kinds carry no work worth redoing late
            self.ledger.finish(key, "expired")

    def sweep_once(self) -> int:
        """Resume now what is pending past its lease (by any replica)."""
        return self.runner.sweep_once(self.ledger, self.resume)

    def start_sweeper(self, interval_s: float) -> None:
        self.runner.start_sweeper(self.ledger, self.resume, interval_s)

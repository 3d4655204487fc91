"""The work behind an acknowledgement. Listeners only claim and enqueue (the platform gets its
acknowledgement at once); a bounded pool of workers does the work. Unfinished events whose lease
ran out (a crashed replica, an outage longer than the retries) are picked up again by a sweeper."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.store.events import EventLedger

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, workers: int, name: str = "itaku-job") -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            self._in_flight += 1
        self._pool.submit(self._run, fn, args)

    def submit_later(self, delay_s: float, fn: Callable[..., None], *args: Any) -> None:
        """Run a job after a delay (counted as in flight while it waits)."""
        with self._lock:
            self._in_flight += 1

        def fire() -> None:
            if self._stopping.is_set():
                self._done()
                return
            self._pool.submit(self._run, fn, args)

        timer = threading.Timer(delay_s, fire)
        timer.daemon = True
        timer.start()

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.notify_all()

    def _run(self, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception as e:  # a job's failure is logged (no payload) and never kills a worker
            log.error("job %s failed: %s", getattr(fn, "__name__", "?"), type(e).__name__)
            # where, never what: a database error's message can quote a row's values
            frames = traceback.extract_tb(e.__traceback__)[-6:]
            log.debug("job failure at %s", " > ".join(f"{f.name}:{f.lineno}" for f in frames))
        finally:
            self._done()

    def wait_idle(self, timeout: float) -> bool:
        with self._lock:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def start_sweeper(
        self, ledger: EventLedger, resume: Callable[[str], None], interval_s: float
    ) -> None:
        """Every interval, resume events left pending past their lease (by any replica)."""

        def sweep() -> None:
            while not self._stopping.wait(interval_s):
                self.sweep_once(ledger, resume)

        self._sweeper = threading.Thread(target=sweep, name="itaku-sweeper", daemon=True)
        self._sweeper.start()

    def start_periodic(self, work: Callable[[], object], interval_s: float, name: str) -> None:
        """Run `work` now and then every interval (errors logged, never fatal)."""

        def loop() -> None:
            while True:
                try:
                    work()
                except Exception as e:
                    log.error("%s failed: %s", name, type(e).__name__)
                if self._stopping.wait(interval_s):
                    return

        threading.Thread(target=loop, name=name, daemon=True).start()

    def sweep_once(self, ledger: EventLedger, resume: Callable[[str], None]) -> int:
        taken = 0
        try:
            for key in ledger.stale():
                if ledger.take_over(key):
                    taken += 1
                    self.submit(resume, key)
        except Exception as e:
            log.error("sweep failed: %s", type(e).__name__)
        if taken:
            log.info("resumed %d unfinished events", taken)
        return taken

    def shutdown(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.wait_idle(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

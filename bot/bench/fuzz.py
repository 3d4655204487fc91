"""`itaku bench fuzz`: hostile requests (bot/bench/hostile.py: every payload kind, mutated,
signed and forged, plus oversized bodies) against a real `itaku serve --http` process. Prints
the answers by status, 5xx (must be 0), connection resets (0), the slowest and median response,
the server's memory before and after (growth under 10%), and whether a normal question is still
answered afterwards."""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

from bot.bench import median, percentile, process_memory_mb
from bot.bench.hostile import KINDS, Outcome, case, oversized, send
from bot.bench.slack import SECRET, served_app
from bot.bench.slack_requests import SlackSender, dm_event
from bot.bench.slack_standin import SlackStandIn

RSS_GROWTH_TARGET = 0.10
SLOW_TARGET_S = 3.0
# the class of each exception a traceback ends with (names only: a message could quote a payload)
_ERROR_LINE = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception|Exit))\b", re.MULTILINE)
WARM_UP = 300  # requests before the first memory reading: caches and pools fill first


def _rss_mb(pid: int) -> float:
    return process_memory_mb(pid, "VmRSS")


def _answered(standin: SlackStandIn, url: str) -> bool:
    ts = f"{1_900_000_000 + random.randint(0, 10**6)}.000001"
    SlackSender(url, SECRET).event(dm_event("再委託を認める条件は？", channel="D0AFTER", ts=ts))
    return standin.wait_for(lambda: bool(standin.thread("D0AFTER", ts)), 30)


def run_fuzz_bench(n_requests: int, senders: int = 4, seed: int = 11) -> int:
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    with served_app("itaku-fuzz-bench-", {"ITAKU_EMBEDDER": "hashing"}) as app:
        standin, proc, url = app.standin, app.proc, app.url
        address = urlparse(url)
        host, port = address.hostname or "127.0.0.1", int(address.port or 80)
        try:

            def fire(count: int, worker: int, keep: bool) -> None:
                rnd = random.Random(seed * 1000 + worker + count)
                for i in range(count):
                    if i % 250 == 249:
                        req = oversized(SECRET, rnd.choice([300_000, 1 << 20, 4 << 20]))
                    else:
                        req = case(KINDS[(i + worker) % len(KINDS)], rnd, SECRET)
                    outcome = send(host, port, req, timeout=30)
                    if keep:
                        with lock:
                            outcomes.append(outcome)

            def run(total: int, keep: bool) -> None:
                share = [total // senders + (w < total % senders) for w in range(senders)]
                threads = [
                    threading.Thread(target=fire, args=(share[w], w, keep)) for w in range(senders)
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()

            run(WARM_UP, keep=False)
            before = _rss_mb(proc.pid)
            started = time.perf_counter()
            run(n_requests, keep=True)
            elapsed = time.perf_counter() - started
            time.sleep(1.0)  # jobs the valid payloads started finish
            after = _rss_mb(proc.pid)
            still_answers = _answered(standin, url)
            alive = proc.poll() is None
        finally:
            app.stop()
        log_text = app.log_text()
        failures = Counter(_ERROR_LINE.findall(log_text))
        if os.environ.get("ITAKU_FUZZ_KEEP_LOG"):
            Path(os.environ["ITAKU_FUZZ_KEEP_LOG"]).write_text(log_text)
    by_status = Counter(o.status for o in outcomes if not o.reset)
    resets = sum(o.reset for o in outcomes)
    server_errors = sum(n for status, n in by_status.items() if status >= 500)
    seconds = [o.seconds for o in outcomes]
    growth = (after - before) / before if before else float("nan")
    print(f"requests              {len(outcomes)} in {elapsed:.1f} s ({senders} senders)")
    print("by status             " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
    print(f"5xx                   {server_errors} (target 0)")
    print(f"connection resets     {resets} (target 0)")
    print(
        f"response time         median {median(seconds) * 1000:.1f} ms, "
        f"p99 {percentile(seconds, 99) * 1000:.1f} ms, slowest {max(seconds, default=0):.2f} s "
        f"(target under {SLOW_TARGET_S:.0f} s)"
    )
    print(
        f"server RSS            {before:.0f} MB after {WARM_UP} warm-up requests, "
        f"{after:.0f} MB after {len(outcomes)} more: {growth:+.1%} "
        f"(target under {RSS_GROWTH_TARGET:.0%})"
    )
    crashes = ", ".join(f"{name} x{n}" for name, n in failures.most_common()) or "none"
    print(f"exceptions in the log {crashes}")
    print(f"answers afterwards    {'yes' if still_answers and alive else 'NO'}")
    ok = (
        server_errors == 0
        and resets == 0
        and max(seconds, default=0) < SLOW_TARGET_S
        and growth < RSS_GROWTH_TARGET
        and still_answers
        and alive
    )
    return 0 if ok else 1

"""`itaku bench slack`: the Slack app in HTTP mode (a real `itaku serve --http` process) against
the Web API stand-in, fed signed events by concurrent senders. Prints ack latency, answered
questions per second, lost and duplicated replies, and the app's peak memory."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import yaml

from bot.bench import median, percentile, process_memory_mb
from bot.bench.kb import DEFAULT_QUESTIONS
from bot.bench.served import ServedApp, serve_against
from bot.bench.slack_requests import SlackSender, dm_event, mention_event
from bot.bench.slack_standin import SlackStandIn

SECRET = "bench-signing-secret"
ACK_P99_TARGET_MS = 200.0
RATE_TARGET = 30.0


@dataclass
class _Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acks_ms: list[float] = field(default_factory=list)
    bad_status: Counter[int] = field(default_factory=Counter)
    sent_at: dict[str, float] = field(default_factory=dict)  # thread ts -> when sent
    answered_at: dict[str, float] = field(default_factory=dict)
    retries: int = 0


def question_texts() -> list[str]:
    """The bundled question set (bot/bench/kb.py), in order."""
    items = yaml.safe_load(DEFAULT_QUESTIONS.read_text(encoding="utf-8"))["questions"]
    return [str(item["q"]) for item in items]


def _slack_env(standin: SlackStandIn) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": standin.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": standin.api_url,
    }


def served_app(
    prefix: str, extra_env: dict[str, str] | None = None
) -> AbstractContextManager[ServedApp[SlackStandIn]]:
    """A real `itaku serve --http` on the bundled knowledge base, against a Slack stand-in
    (stopped on exit)."""
    return serve_against(
        prefix, SlackStandIn(), ["--http"], _slack_env, "serving Slack on", extra_env
    )


def _peak_rss_mb(pid: int) -> float:
    return process_memory_mb(pid, "VmHWM")


class _Watcher(threading.Thread):
    """Follows the stand-in's record: a question is answered when its placeholder is updated."""

    def __init__(self, standin: SlackStandIn, tally: _Tally) -> None:
        super().__init__(daemon=True)
        self.standin = standin
        self.tally = tally
        self.stop = threading.Event()
        self.seen = 0
        self.placeholder_of: dict[str, str] = {}  # placeholder ts -> thread ts
        self.posts: Counter[str] = Counter()  # thread ts -> bot messages posted
        self.updates: Counter[str] = Counter()  # thread ts -> answer updates

    def run(self) -> None:
        while not self.stop.is_set():
            self.scan()
            time.sleep(0.005)
        self.scan()

    def scan(self) -> None:
        calls = self.standin.calls[self.seen :]
        self.seen += len(calls)
        now = time.perf_counter()
        for call in calls:
            p = call.params
            if call.method == "chat.postMessage":
                thread = str(p.get("thread_ts"))
                self.posts[thread] += 1
                for msg in self.standin.thread(str(p.get("channel")), thread):
                    self.placeholder_of[msg.ts] = thread
            elif call.method == "chat.update" and p.get("blocks"):
                thread = self.placeholder_of.get(str(p.get("ts")), "?")
                self.updates[thread] += 1
                with self.tally.lock:
                    self.tally.answered_at.setdefault(thread, now)


_FAULTS = (
    ("chat.postMessage", {"status": 503}),
    ("chat.update", {"status": 429, "retry_after": 0}),
    ("chat.postMessage", {"drop": True}),
    ("chat.update", {"status": 500}),
)


def _inject_faults(
    standin: SlackStandIn, count: int, every_s: float, stop: threading.Event
) -> None:
    """One fault at a time, each as soon as the previous one has hit a call: scattered faults
    as a flaky network or a rate limit gives them, not one long outage."""
    injected = 0
    while injected < count and not stop.wait(every_s):
        if len(standin.failures) < injected:
            continue
        method, fault = _FAULTS[injected % len(_FAULTS)]
        standin.fail(method, **fault)
        injected += 1


def run_slack_bench(
    n_questions: int, in_flight: int, retry_share: float, faults: int = 0, senders: int = 8
) -> int:
    questions = question_texts()
    rng = random.Random(7)
    tally = _Tally()
    with served_app("itaku-slack-bench-") as app:
        standin, proc, url = app.standin, app.proc, app.url
        try:
            sender = SlackSender(url, SECRET)
            # warm-up: first answers pay for lazy loading; not counted
            for i in range(3):
                sender.event(dm_event(questions[i], channel="D0WARM", ts=f"1.{i:06d}"))
            standin.wait_for(lambda: len(standin.calls_to("chat.update")) >= 3, 30)
            standin.reset()
            watcher = _Watcher(standin, tally)
            watcher.start()
            stop_faults = threading.Event()
            threading.Thread(
                target=_inject_faults, args=(standin, faults, 0.02, stop_faults), daemon=True
            ).start()
            slots = threading.BoundedSemaphore(in_flight)
            todo = list(range(n_questions))
            todo_lock = threading.Lock()
            started = time.perf_counter()

            def release_answered(pending: set[str]) -> None:
                with tally.lock:
                    done = [t for t in pending if t in tally.answered_at]
                for t in done:
                    pending.discard(t)
                    slots.release()

            def send_loop(worker: int) -> None:
                pending: set[str] = set()
                while True:
                    with todo_lock:
                        if not todo:
                            break
                        i = todo.pop()
                    while not slots.acquire(timeout=0.005):
                        release_answered(pending)
                    question = questions[i % len(questions)]
                    ts = f"{1_800_000_000 + i}.{worker:06d}"
                    if i % 2:
                        event = dm_event(question, channel=f"D{worker:04d}", ts=ts)
                    else:
                        event = mention_event(question, channel=f"C{worker:04d}", ts=ts)
                    event_id = f"EvB{i:08d}"
                    with tally.lock:
                        tally.sent_at[ts] = time.perf_counter()
                    reply = sender.event(event, event_id=event_id)
                    _count(tally, reply.status, reply.seconds)
                    pending.add(ts)
                    if rng.random() < retry_share:  # Slack thinks the first was lost
                        again = sender.event(event, event_id=event_id, retry_num=1)
                        _count(tally, again.status, again.seconds)
                        with tally.lock:
                            tally.retries += 1
                    release_answered(pending)
                deadline = time.perf_counter() + 60
                while pending and time.perf_counter() < deadline:
                    release_answered(pending)
                    time.sleep(0.005)

            threads = [threading.Thread(target=send_loop, args=(w,)) for w in range(senders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = max(tally.answered_at.values(), default=started) - started
            stop_faults.set()
            time.sleep(0.5)  # late duplicates would show up now
            watcher.stop.set()
            watcher.join()
            rss = _peak_rss_mb(proc.pid)
        finally:
            app.stop()
        faulted = len(standin.failures)
        own = [line for line in app.log_text().splitlines() if " bot." in line]
        print(f"app log               {len(own)} warnings/errors of Itaku's own (ids only):")
        for line in own[:10]:
            print(f"                      {line}")
        return _report(tally, watcher, n_questions, in_flight, senders, elapsed, rss, faulted)


def _count(tally: _Tally, status: int, seconds: float) -> None:
    with tally.lock:
        tally.acks_ms.append(seconds * 1000)
        if status != 200:
            tally.bad_status[status] += 1


def _report(
    tally: _Tally,
    watcher: _Watcher,
    n: int,
    in_flight: int,
    senders: int,
    elapsed: float,
    rss: float,
    faulted: int,
) -> int:
    answered = len([t for t in tally.sent_at if t in tally.answered_at])
    lost = n - answered
    duplicated = sum(1 for c in watcher.posts.values() if c > 1) + sum(
        1 for c in watcher.updates.values() if c > 1
    )
    acks = tally.acks_ms
    p50, p99 = median(acks), percentile(acks, 99)
    rate = answered / elapsed if elapsed > 0 else 0.0
    latencies = [
        (tally.answered_at[t] - tally.sent_at[t]) * 1000
        for t in tally.sent_at
        if t in tally.answered_at
    ]
    print(
        f"questions sent        {n} ({tally.retries} re-sent as Slack retries), {senders} senders, "
        f"up to {in_flight} in flight"
    )
    print(
        f"ack latency           p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(acks):.1f} ms "
        f"(target p99 <= {ACK_P99_TARGET_MS:.0f} ms)"
    )
    print(
        f"answered              {answered} in {elapsed:.2f} s = {rate:.1f} questions/s "
        f"(target >= {RATE_TARGET:.0f}/s)"
    )
    print(
        f"question to answer    p50 {median(latencies):.0f} ms, p99 {percentile(latencies, 99):.0f} ms"
    )
    print(f"Web API faults        {faulted} injected (503, 429, dropped connection, 500), retried")
    print(f"lost replies          {lost}")
    print(f"duplicated replies    {duplicated}")
    print(f"non-200 acks          {dict(tally.bad_status) or 0}")
    print(f"app peak RSS          {rss:.0f} MB")
    met = p99 <= ACK_P99_TARGET_MS and rate >= RATE_TARGET and lost == 0 and duplicated == 0
    print("targets               " + ("met" if met else "MISSED"))
    return 0 if lost == 0 and duplicated == 0 and not tally.bad_status else 1

"""`itaku bench llm`: the LLM pipeline against the OpenAI-compatible stand-in (no model time to
speak of), so what is measured is Itaku's own cost around the model: masking, prompt assembly,
parsing, the citation check, restoring (target p95 <= 50 ms), and how long after the question
the first streamed token could reach Slack beyond the model's own first-token time."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

from bot.bench import BENCH_AUDIT_KEY, median, percentile
from bot.bench.kb import DEFAULT_QUESTIONS
from bot.bench.openai_standin import ChatCall, OpenAIStandIn

TARGET_P95_MS = 50.0


def _reply(call: ChatCall) -> str:
    """A grounded answer citing the first document, long enough to stream in many pieces."""
    system = str(call.messages[0].get("content", ""))
    if "検索クエリ" in system:
        return str(call.messages[-1].get("content", "")).rsplit("\n", 1)[-1]
    return (
        "委託元は委託先を監督し、必要な安全管理措置が講じられるようにしなければなりません[1]。" * 3
    )


def run_llm_bench(limit: int = 100, token_delay_s: float = 0.002) -> int:
    from bot.assistant.grounded import GroundedWriter
    from bot.assistant.service import Assistant
    from bot.bench.served import index_bundled
    from bot.config import Settings
    from bot.llm.client import chat_client
    from bot.llm.pii import Policy

    items = yaml.safe_load(DEFAULT_QUESTIONS.read_text(encoding="utf-8"))["questions"]
    questions = [str(i["q"]) for i in items if not i.get("abstain")][:limit]
    with tempfile.TemporaryDirectory(prefix="itaku-llm-bench-") as tmp, OpenAIStandIn() as standin:
        data = Path(tmp) / "data"
        index_bundled(data)
        standin.responder(_reply)
        standin.set_token_delay(token_delay_s)
        settings = Settings(
            ITAKU_DATA_DIR=data, OPENAI_BASE_URL=standin.base_url, OPENAI_API_KEY="sk-test"
        )
        offline = Assistant.from_settings(Settings(ITAKU_DATA_DIR=data))
        writer = GroundedWriter(chat_client(settings), "bench-model", Policy.MASK, stream=True)
        assistant = Assistant(offline.kb, offline.glossary, None, offline.settings, writer=writer)
        for q in questions[:5]:  # warm-up
            assistant.ask(q)
        overhead: list[float] = []
        before_model: list[float] = []
        used = 0
        for q in questions:
            started = time.perf_counter()
            first: list[float] = []

            def on_delta(_text: str, first: list[float] = first, started: float = started) -> None:
                if not first:
                    first.append((time.perf_counter() - started) * 1000)

            writer.last_draft = None
            answer, _ = assistant.respond(q, None, on_delta)
            draft = writer.last_draft
            if answer.generated_by == "llm":
                used += 1
            if draft is not None:
                overhead.append(draft.overhead_ms)
                if first and draft.first_shown_ms is not None:
                    # the model's own part (its text up to the first citable words) taken out
                    before_model.append(first[0] - draft.first_shown_ms)
        slack_beyond = _through_slack(assistant, questions[:40], data)
    print(
        f"questions             {len(questions)} ({used} answered by the LLM path, the rest offline or refused)"
    )
    print(
        f"pipeline overhead     p50 {median(overhead):.2f} ms, p95 {percentile(overhead, 95):.2f} ms "
        f"(masking, prompt, parsing, citation check, restore; target p95 <= {TARGET_P95_MS:.0f} ms)"
    )
    print(
        f"first token, beyond   p50 {median(before_model):.1f} ms, p95 {percentile(before_model, 95):.1f} ms "
        "(question received -> first streamed text, minus the model's time to write it)"
    )
    print(
        f"first token in Slack  p50 {median(slack_beyond):.1f} ms, p95 {percentile(slack_beyond, 95):.1f} ms "
        "(signed event sent -> first chat.appendStream at Slack, minus the model's time to write it; "
        f"{len(slack_beyond)} questions through `serve --http` in process)"
    )
    met = (
        percentile(overhead, 95) <= TARGET_P95_MS and percentile(slack_beyond, 95) <= TARGET_P95_MS
    )
    print("target                " + ("met" if met else "MISSED"))
    return 0


def _through_slack(assistant: object, questions: list[str], data: Path) -> list[float]:
    """The same questions as DMs to the Slack app in HTTP mode (in process, real HTTP both ways)."""
    import threading

    from bot.assistant.service import Assistant
    from bot.bench.slack_requests import SlackSender, dm_event
    from bot.bench.slack_standin import SlackStandIn
    from bot.config import Settings
    from bot.inbound.server import serve_http
    from bot.slack import streaming
    from bot.slack.app import build_runtime, create_app
    from bot.slack.http import SlackWsgi

    assert isinstance(assistant, Assistant)
    streaming.APPEND_EVERY_S = 0.0  # every piece, so the first one is not held back by pacing
    out: list[float] = []
    with SlackStandIn() as slack:
        settings = Settings(
            ITAKU_DATA_DIR=data,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET="bench",
            SLACK_API_URL=slack.api_url,
            DATABASE_URL=f"sqlite:///{data / 'slack.db'}",
            ITAKU_AUDIT_KEY=BENCH_AUDIT_KEY,
            ITAKU_AUDIT_ANCHOR=data / "audit-anchor.log",
        )
        rt = build_runtime(settings, assistant=assistant)
        wsgi = SlackWsgi(create_app(rt), "bench", settings.slack_max_body_bytes)
        server = serve_http(wsgi, "127.0.0.1", 0, 8, settings.slack_drain_body_bytes)
        threading.Thread(target=server.run, daemon=True).start()
        sender = SlackSender(f"http://127.0.0.1:{server.effective_port}/slack/events", "bench")
        try:
            for i, q in enumerate(questions):
                ts = f"1800000000.{i:06d}"
                seen = len(slack.calls_to("chat.appendStream"))

                def appended(seen: int = seen) -> bool:
                    return len(slack.calls_to("chat.appendStream")) > seen

                assistant.writer.last_draft = None  # type: ignore[union-attr]
                sent = time.perf_counter()
                sender.event(dm_event(q, channel="D0BENCH", ts=ts))
                if not slack.wait_for(appended, 10):
                    rt.runner.wait_idle(10)
                    continue
                arrived = (time.perf_counter() - sent) * 1000
                rt.runner.wait_idle(10)
                draft = assistant.writer.last_draft  # type: ignore[union-attr]
                if draft is not None and draft.first_shown_ms is not None:
                    out.append(arrived - draft.first_shown_ms)
        finally:
            server.close()
            rt.runner.shutdown(5)
    return out

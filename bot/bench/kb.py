"""`itaku bench kb`: the bundled question set (tests/eval/questions.yaml) against the bundled
knowledge base, indexed into a temporary folder. Prints how many answers carry their key facts
and cite a source, and how many out-of-scope questions were refused."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from bot.bench import median, percentile
from bot.config import PROJECT_ROOT
from bot.knowledge.text import normalize

DEFAULT_QUESTIONS = PROJECT_ROOT / "tests" / "eval" / "questions.yaml"


def facts_present(answer: str, facts: list[list[str]]) -> bool:
    text = normalize(answer)
    return all(any(normalize(alt) in text for alt in group) for group in facts)


def run_kb(questions_path: Path | None = None, show_failures: bool = False) -> int:
    from bot.assistant.service import Assistant
    from bot.config import Settings

    path = questions_path or DEFAULT_QUESTIONS
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    with tempfile.TemporaryDirectory(prefix="itaku-kb-") as tmp:
        settings = Settings(ITAKU_DATA_DIR=Path(tmp))
        from bot.assistant.service import make_embedder
        from bot.knowledge.indexer import run_index
        from bot.knowledge.vectorstore import VectorStore, open_client

        run_index(
            [settings.knowledge_dir],
            settings.data_dir,
            make_embedder(settings),
            VectorStore(open_client(settings.data_dir, None)),
        )
        assistant = Assistant.from_settings(settings)
        in_scope = [q for q in items if not q.get("abstain")]
        oos = [q for q in items if q.get("abstain")]
        good = answered = cited = refused = 0
        lat: list[float] = []
        failures: list[str] = []
        for item in in_scope:
            a = assistant.ask(item["q"])
            lat.append(a.latency_ms)
            ok = (
                not a.abstained
                and facts_present(a.answer, item.get("facts", []))
                and bool(a.citations)
            )
            answered += not a.abstained
            cited += bool(a.citations)
            good += ok
            if not ok:
                failures.append(
                    f"MISS {item['id']}: {item['q']}\n  -> {'ABSTAINED' if a.abstained else a.answer}"
                )
        for item in oos:
            a = assistant.ask(item["q"])
            lat.append(a.latency_ms)
            refused += a.abstained
            if not a.abstained:
                failures.append(f"FALSE ANSWER {item['id']}: {item['q']}\n  -> {a.answer[:200]}")
    print(f"bundled question set: {len(in_scope)} in scope, {len(oos)} out of scope")
    print(
        f"in scope: key facts present and cited {good}/{len(in_scope)} ({good / max(1, len(in_scope)):.2f}); "
        f"answered {answered}, cited {cited}"
    )
    print(f"out of scope: abstained {refused}/{len(oos)} ({refused / max(1, len(oos)):.2f})")
    print(f"latency p50 {median(lat):.1f} ms, p95 {percentile(lat, 95):.1f} ms")
    if show_failures:
        for f in failures:
            print(f)
    return 0

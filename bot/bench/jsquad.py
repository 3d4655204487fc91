"""`itaku bench jsquad`: index JSQuAD's paragraphs into a temporary store through the real
pipeline (files -> loader -> chunker -> Chroma + lexical), ask every question through the
assistant, and print retrieval and answer figures."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bot.bench import median, percentile
from bot.knowledge.text import normalize


def load_jsquad(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, int, list[str]]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    paragraphs: list[tuple[str, str]] = []
    questions: list[tuple[str, int, list[str]]] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            title, _, body = para["context"].partition(" [SEP] ")
            idx = len(paragraphs)
            paragraphs.append((title.strip(), body.strip() if body else title.strip()))
            for qa in para["qas"]:
                questions.append((qa["question"], idx, [a["text"] for a in qa["answers"]]))
    return paragraphs, questions


def run_jsquad(data: Path, limit: int = 0, vectors: bool = True) -> int:
    from bot.assistant.service import Assistant, make_embedder
    from bot.bench import bench_settings
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.indexer import run_index
    from bot.knowledge.search import KnowledgeBase
    from bot.knowledge.vectorstore import VectorStore, open_client

    if not data.exists():
        print(f"itaku bench jsquad: {data} not found")
        return 2
    paragraphs, questions = load_jsquad(data)
    if limit:
        questions = questions[:limit]
    with tempfile.TemporaryDirectory(prefix="itaku-jsquad-") as tmp:
        root = Path(tmp) / "jsquad"
        root.mkdir()
        for i, (title, body) in enumerate(paragraphs):
            (root / f"p{i:05d}.txt").write_text(f"{title}\n{body}\n", encoding="utf-8")
        data_dir = Path(tmp) / "data"
        settings = bench_settings(data_dir, ITAKU_TOP_K=10)
        embedder = make_embedder(settings)
        client = open_client(data_dir, None)
        t0 = time.perf_counter()
        report = run_index([root], data_dir, embedder, VectorStore(client), progress=_progress)
        index_s = time.perf_counter() - t0
        kb = KnowledgeBase.open(data_dir, client)
        # The domain glossary is for outsourcing security; JSQuAD is general Wikipedia.
        assistant = Assistant(kb, Glossary([]), embedder if vectors else None, settings)
        assistant.ask("ウォームアップ")
        r1 = r5 = 0
        mrr = 0.0
        hit = hit_first = abstained = 0
        lat: list[float] = []
        for question, gold, answers in questions:
            t = time.perf_counter()
            answer, hits = assistant.respond(question)
            lat.append((time.perf_counter() - t) * 1000)
            ranked: list[int] = []
            for h in hits:
                p = int(Path(h.chunk.source).stem[1:])
                if p not in ranked:
                    ranked.append(p)
            if ranked[:1] == [gold]:
                r1 += 1
            if gold in ranked[:5]:
                r5 += 1
            if gold in ranked[:10]:
                mrr += 1 / (ranked.index(gold) + 1)
            golds = [normalize(a) for a in answers]
            text = normalize(answer.answer)
            first = normalize(answer.answer.split("\n")[0]) if not answer.abstained else ""
            abstained += answer.abstained
            if not answer.abstained and any(g in text for g in golds):
                hit += 1
            if first and any(g in first for g in golds):
                hit_first += 1
        n = len(questions)
        print(
            f"JSQuAD validation: {len(paragraphs)} paragraphs ({report.chunks} chunks), {n} questions, "
            f"vectors={embedder.name if vectors else 'off'}"
        )
        print(f"R@1        {r1 / n:.3f}   (target >= 0.935)")
        print(f"R@5        {r5 / n:.3f}   (target >= 0.98)")
        print(f"MRR@10     {mrr / n:.3f}")
        print(f"answer hit {hit / n:.3f}   (target >= 0.88; answer text contains a gold answer)")
        print(f"first-sentence hit {hit_first / n:.3f}; abstained {abstained / n:.3f}")
        print(f"latency per question p50 {median(lat):.1f} ms, p95 {percentile(lat, 95):.1f} ms")
        print(f"indexing {index_s:.1f} s")
    return 0


def _progress(stage: str, done: int, total: int) -> None:
    if stage in ("embed", "windows") and (done == total or done % 320 == 0):
        print(
            f"embedding {'sentence windows ' if stage == 'windows' else ''}{done}/{total}",
            flush=True,
        )

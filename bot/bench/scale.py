"""`itaku bench scale`: synthetic corpora of 1k, 10k and 100k chunks, indexed through the real
pipeline (Markdown files -> loader -> chunker -> Chroma + lexical index), then queried in process.
Each size runs in its own subprocess so that its peak memory (max RSS) is its own."""

from __future__ import annotations

import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.bench import median, percentile
from bot.config import PROJECT_ROOT
from bot.knowledge.embeddings import Embedder, Vectors

SECTIONS_PER_FILE = 500


def _sentences() -> list[str]:
    """Sentences of the bundled knowledge base: realistic Japanese to recombine."""
    from bot.knowledge.loaders import load_file
    from bot.knowledge.text import split_sentences

    out: list[str] = []
    for path in sorted((PROJECT_ROOT / "knowledge").rglob("*.md")):
        for block in load_file(path, path.name).blocks:
            out.extend(s for s in split_sentences(block.text) if 20 <= len(s) <= 150)
    return out


def _write_corpus(root: Path, n_chunks: int, rng: random.Random, sentences: list[str]) -> None:
    root.mkdir(parents=True)
    for f in range(0, n_chunks, SECTIONS_PER_FILE):
        lines = [
            "---",
            f"title: 合成文書{f // SECTIONS_PER_FILE}",
            "kind: guidance",
            "tags: [bench]",
            "sources: [{title: synthetic}]",
            "as_of: 2026-11-01",
            "---",
        ]
        for s in range(f, min(f + SECTIONS_PER_FILE, n_chunks)):
            # One section = one chunk: three sentences and a unique case number.
            body = "".join(rng.sample(sentences, 3))
            lines.append(f"## 事例{s}（管理番号{rng.randrange(10**6)}）")
            lines.append(body)
        (root / f"doc{f // SECTIONS_PER_FILE:04d}.md").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )


REAL_SAMPLE = 1000  # texts embedded by the model; a larger corpus reuses their vectors


class SampledVectors:
    """The bundled model for the first REAL_SAMPLE texts and every question; the other texts of
    a large synthetic corpus reuse one of those vectors (by hash). Embedding 100k passages on
    two cores would take hours; what this benchmark measures is the cost of searching them."""

    def __init__(self, model: Embedder) -> None:
        self.model = model
        self.name = model.name
        self.dim = model.dim
        self._sample: list[Vectors] = []

    def embed_documents(self, texts: list[str]) -> Vectors:
        take = max(0, REAL_SAMPLE - len(self._sample))
        real = list(self.model.embed_documents(texts[:take])) if take else []
        self._sample.extend(real)
        reused = [
            self._sample[int(hashlib.sha1(t.encode("utf-8")).hexdigest(), 16) % len(self._sample)]
            for t in texts[take:]
        ]
        return np.asarray(real + reused, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> Vectors:
        return self.model.embed_query(text)


def run_one(n_chunks: int, n_queries: int) -> dict[str, float]:
    from bot.assistant.service import Assistant, make_embedder
    from bot.bench import bench_settings
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.indexer import run_index
    from bot.knowledge.search import KnowledgeBase
    from bot.knowledge.vectorstore import VectorStore, open_client

    rng = random.Random(n_chunks)
    sentences = _sentences()
    with tempfile.TemporaryDirectory(prefix="itaku-scale-") as tmp:
        root = Path(tmp) / "corpus"
        _write_corpus(root, n_chunks, rng, sentences)
        data_dir = Path(tmp) / "data"
        client = open_client(data_dir, None)
        settings = bench_settings(data_dir)
        embedder = SampledVectors(make_embedder(settings))
        t0 = time.perf_counter()
        report = run_index([root], data_dir, embedder, VectorStore(client))
        index_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        kb = KnowledgeBase.open(data_dir, client)
        load_s = time.perf_counter() - t1
        assistant = Assistant(
            kb,
            Glossary.load(PROJECT_ROOT / "knowledge" / "glossary.yaml"),
            embedder,
            settings,
        )
        questions = [
            s[: rng.randrange(12, 30)] + "とは？" for s in rng.sample(sentences, n_queries)
        ]
        assistant.ask(questions[0])
        lat: list[float] = []
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q)
            lat.append((time.perf_counter() - t) * 1000)
    return {
        "chunks": float(report.chunks),
        "index_s": index_s,
        "load_s": load_s,
        "p50_ms": median(lat),
        "p95_ms": percentile(lat, 95),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_scale(sizes: list[int], n_queries: int) -> int:
    print(f"{'chunks':>8} {'index s':>9} {'load s':>7} {'p50 ms':>7} {'p95 ms':>7} {'peak MB':>8}")
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, "-m", "bot.bench.scale", str(n), str(n_queries)],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
        )
        if proc.returncode != 0:
            print(
                f"{n:>8} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}"
            )
            return 1
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{int(r['chunks']):>8} {r['index_s']:>9.1f} {r['load_s']:>7.2f} {r['p50_ms']:>7.1f} "
            f"{r['p95_ms']:>7.1f} {r['peak_mb']:>8.0f}",
            flush=True,
        )
    print(
        f"targets: p95 <= 40 ms at 1k chunks, <= 120 ms at 100k chunks (in process); vectors: "
        f"the bundled model for {REAL_SAMPLE} texts (cached) and every question, larger corpora "
        "reuse those vectors"
    )
    return 0


if __name__ == "__main__":
    print(json.dumps(run_one(int(sys.argv[1]), int(sys.argv[2]))))

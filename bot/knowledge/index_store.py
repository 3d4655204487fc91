"""The on-disk index: numbered generations under <data>/index/, and a CURRENT pointer that is
switched atomically once a generation is complete. Readers only ever open a complete generation.

<data>/index/CURRENT                 {"generation": 7}
<data>/index/g000007/manifest.json   files indexed, their hashes and chunk ids, embedder
<data>/index/g000007/chunks.jsonl    chunk texts and metadata (Chroma holds the same, with vectors)
<data>/index/g000007/docs.json       each document's front matter (title, kind, sources, as_of)
<data>/index/g000007/lex_*.npz       the Japanese lexical indexes (character n-grams, words, titles)
<data>/index/g000007/vectors.npy     the chunks' vectors in chunk order (Chroma holds the same): a
                                     question is answered without opening Chroma at all
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from bot.knowledge.lexical import BM25Index
from bot.knowledge.models import Chunk, DocMeta
from bot.knowledge.tokenize import char_tokens, word_tokens


class FileEntry(BaseModel):
    sha256: str
    chunk_ids: list[str]


VECTORS_FILE = "vectors.npy"
# the bundled model's vectors of each chunk's sentence windows, and the chunk each belongs to
WINDOWS_FILE = "windows.npy"
WINDOW_OWNER_FILE = "window_owner.npy"
# The knowledge base's own vectors, shipped beside it (`python3 tasks.py vectors` refreshes them).
SHIPPED_VECTORS = ".vectors.sqlite3"

# Bump when tokenisation, chunking or BM25 parameters change: indexes of another version are rebuilt.
# (6: sentence windows are embedded beside the chunks)
LEXICAL_VERSION = 6


class Manifest(BaseModel):
    generation: int
    embedder: str
    lexical_version: int = 0
    roots: list[str]
    files: dict[str, FileEntry] = Field(default_factory=dict)
    created: str = ""


@dataclass
class LexicalIndexes:
    chars: BM25Index
    words: BM25Index
    titles: BM25Index

    @classmethod
    def build(cls, chunks: list[Chunk]) -> LexicalIndexes:
        return cls(
            chars=BM25Index.build(char_tokens(c.searchable) for c in chunks),
            words=BM25Index.build((word_tokens(c.searchable) for c in chunks), k1=1.2, b=0.75),
            titles=BM25Index.build(char_tokens(f"{c.title}\n{c.section}") for c in chunks),
        )

    def save(self, folder: Path) -> None:
        self.chars.save(folder / "lex_chars.npz")
        self.words.save(folder / "lex_words.npz")
        self.titles.save(folder / "lex_titles.npz")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndexes:
        return cls(
            chars=BM25Index.load(folder / "lex_chars.npz"),
            words=BM25Index.load(folder / "lex_words.npz"),
            titles=BM25Index.load(folder / "lex_titles.npz"),
        )


class IndexLayout:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "index"

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    def gen_dir(self, generation: int) -> Path:
        return self.root / f"g{generation:06d}"

    def current_generation(self) -> int | None:
        try:
            data = json.loads(self.current_file.read_text(encoding="utf-8"))
            gen = int(data["generation"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return gen if (self.gen_dir(gen) / "manifest.json").exists() else None

    def next_generation(self) -> int:
        existing = [int(p.name[1:]) for p in self.root.glob("g[0-9]*") if p.name[1:].isdigit()]
        return max(existing, default=0) + 1

    def publish(self, generation: int) -> None:
        """Make a complete generation the current one (atomic rename)."""
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"generation": generation}), encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.current_file)

    def prune(self, keep: set[int]) -> list[int]:
        """Delete generation folders not in keep; returns the removed numbers."""
        removed = []
        for p in self.root.glob("g[0-9]*"):
            if p.name[1:].isdigit() and int(p.name[1:]) not in keep:
                shutil.rmtree(p, ignore_errors=True)
                removed.append(int(p.name[1:]))
        return removed


def write_generation(
    folder: Path,
    manifest: Manifest,
    chunks: list[Chunk],
    docs: dict[str, DocMeta],
    lexical: LexicalIndexes,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(c.to_record(), ensure_ascii=False) + "\n")
    (folder / "docs.json").write_text(
        json.dumps({k: v.model_dump(mode="json") for k, v in docs.items()}, ensure_ascii=False),
        encoding="utf-8",
    )
    lexical.save(folder)
    # The manifest is written last: its presence marks the folder complete.
    (folder / "manifest.json").write_text(manifest.model_dump_json(indent=1), encoding="utf-8")


def read_chunks(folder: Path) -> list[Chunk]:
    with open(folder / "chunks.jsonl", encoding="utf-8") as fh:
        return [Chunk.from_record(json.loads(line)) for line in fh if line.strip()]


def read_docs(folder: Path) -> dict[str, DocMeta]:
    raw = json.loads((folder / "docs.json").read_text(encoding="utf-8"))
    return {k: DocMeta.model_validate(v) for k, v in raw.items()}


def read_manifest(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / "manifest.json").read_text(encoding="utf-8"))

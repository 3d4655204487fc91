"""`itaku index`: load, chunk and index files incrementally into a new generation.

Unchanged files (same SHA-256) keep their chunks and vectors; changed files are re-read;
deleted files drop out. Everything is written into a fresh generation that becomes current
only when complete, so an interrupted or failed run leaves the served index untouched."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.knowledge.chunking import chunk_document
from bot.knowledge.embeddings import Embedder
from bot.knowledge.index_store import (
    LEXICAL_VERSION,
    SHIPPED_VECTORS,
    VECTORS_FILE,
    WINDOW_OWNER_FILE,
    WINDOWS_FILE,
    FileEntry,
    IndexLayout,
    LexicalIndexes,
    Manifest,
    read_chunks,
    read_docs,
    read_manifest,
    write_generation,
)
from bot.knowledge.loaders import SUPPORTED_SUFFIXES, LoadError, load_file
from bot.knowledge.models import Chunk, DocMeta
from bot.knowledge.vectorstore import VectorStore, collection_name
from bot.knowledge.windows import embeds_windows, windows_of

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class IndexBusyError(RuntimeError):
    pass


@dataclass
class IndexReport:
    generation: int | None = None
    files_total: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    kept_previous: list[str] = field(default_factory=list)  # unreadable now, previous version kept
    kept: list[str] = field(default_factory=list)  # from other paths than these: kept (no prune)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0

    new_generation: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def discover(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """Files to index as (path, source name), and paths that cannot be indexed.

    Symbolic links inside a folder are not followed: a link that leads out of the folder is
    refused with a message (it would smuggle any file the service can read into the answers);
    one that stays inside is skipped, as its target is indexed where it lies."""
    found: dict[str, Path] = {}
    problems: list[tuple[str, str]] = []
    for root in paths:
        if not root.exists():
            problems.append((str(root), "no such file or folder"))
            continue
        if root.is_file():
            if root.suffix.lower() in SUPPORTED_SUFFIXES:
                found[root.name] = root
            else:
                problems.append((str(root), f"unsupported file type '{root.suffix or root.name}'"))
            continue
        top = root.resolve()
        base = top.parent
        for folder, dirs, names in os.walk(top, followlinks=False):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            entries = [(d, True) for d in dirs] + [(n, False) for n in sorted(names)]
            for name, is_dir in entries:
                p = here / name
                if name.startswith("."):
                    continue
                rel = p.relative_to(base).as_posix()
                if p.is_symlink():
                    if is_dir:
                        dirs.remove(name)
                    problems.append((rel, _link_problem(p, top)))
                    continue
                if not is_dir and p.suffix.lower() in SUPPORTED_SUFFIXES:
                    found[rel] = p
    return sorted(((p, s) for s, p in found.items()), key=lambda x: x[1]), problems


def _link_problem(link: Path, top: Path) -> str:
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        return "a symbolic link to nothing (or a loop): not followed"
    if target != top and top not in target.parents:
        return "a symbolic link that leads out of the knowledge folder: refused"
    return "a symbolic link: not followed (its target is indexed where it lies)"


@contextmanager
def _exclusive(layout: IndexLayout) -> Iterator[None]:
    layout.root.mkdir(parents=True, exist_ok=True)
    with open(layout.root / "LOCK", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError("another `itaku index` is running on this data folder") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))  # a link is not read
    with os.fdopen(fd, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_index(
    paths: list[Path],
    data_dir: Path,
    embedder: Embedder,
    store: VectorStore,
    progress: Progress | None = None,
    max_chars: int | None = None,
    prune: bool = True,
) -> IndexReport:
    """Index the files under `paths` into a new generation (incremental: unchanged files keep
    their chunks and vectors). With `prune`, the index holds exactly these paths' files;
    without it, files indexed earlier from other paths are kept (a file deleted from one of
    these folders is still removed)."""
    import time

    started = time.perf_counter()
    layout = IndexLayout(data_dir)
    report = IndexReport()
    with _exclusive(layout):
        files, problems = discover(paths)
        report.skipped.extend(problems)
        report.files_total = len(files)

        prev_gen = layout.current_generation()
        prev_manifest: Manifest | None = None
        prev_chunks: dict[str, list[Chunk]] = {}
        prev_docs: dict[str, DocMeta] = {}
        if prev_gen is not None:
            folder = layout.gen_dir(prev_gen)
            prev_manifest = read_manifest(folder)
            for c in read_chunks(folder):
                prev_chunks.setdefault(c.source, []).append(c)
            prev_docs = read_docs(folder)
        same_embedder = prev_manifest is not None and prev_manifest.embedder == embedder.name
        # Another index format (tokeniser, chunker) means every file is read and chunked again.
        same_format = prev_manifest is not None and prev_manifest.lexical_version == LEXICAL_VERSION

        chunks: list[Chunk] = []
        docs: dict[str, DocMeta] = {}
        entries: dict[str, FileEntry] = {}
        reuse_ids: list[str] = []
        new_chunks: list[Chunk] = []

        def carry_over(source: str, entry: FileEntry) -> None:
            old_chunks = prev_chunks.get(source, [])
            chunks.extend(old_chunks)
            docs[source] = prev_docs[source]
            entries[source] = entry
            if same_embedder:
                reuse_ids.extend(c.id for c in old_chunks)
            else:
                new_chunks.extend(old_chunks)

        for n, (path, source) in enumerate(files, start=1):
            if progress:
                progress("read", n, len(files))
            try:
                digest = _sha256(path)
            except OSError as exc:
                report.skipped.append((source, f"cannot be read ({exc.strerror or exc})"))
                continue
            old = prev_manifest.files.get(source) if prev_manifest else None
            if old is not None and old.sha256 == digest and source in prev_docs and same_format:
                carry_over(source, old)
                report.unchanged.append(source)
                continue
            try:
                doc = load_file(path, source)
                file_chunks = chunk_document(doc, max_chars) if max_chars else chunk_document(doc)
            except LoadError as exc:
                if old is not None and source in prev_docs:
                    # Keep serving the last good version rather than silently dropping it.
                    carry_over(source, old)
                    report.kept_previous.append(source)
                report.skipped.append((source, str(exc)))
                continue
            chunks.extend(file_chunks)
            new_chunks.extend(file_chunks)
            docs[source] = doc.meta
            entries[source] = FileEntry(sha256=digest, chunk_ids=[c.id for c in file_chunks])
            (report.updated if old is not None else report.added).append(source)

        if prev_manifest is not None and not prune:
            # a file of a folder indexed now that is gone was deleted: removed; one indexed from
            # another path earlier stays until an explicit prune
            covered = {r.resolve().name for r in paths if r.is_dir()}
            covered_files = {r.name for r in paths if r.is_file()}
            for source in sorted(set(prev_manifest.files) - set(entries)):
                top = source.split("/", 1)[0]
                gone = top in covered if "/" in source else source in covered_files
                if not gone and source in prev_docs:
                    carry_over(source, prev_manifest.files[source])
                    report.kept.append(source)
        if prev_manifest is not None:
            report.removed = sorted(set(prev_manifest.files) - set(entries))
        report.chunks = len(chunks)
        up_to_date = prev_manifest is not None and prev_manifest.lexical_version == LEXICAL_VERSION
        if (
            prev_gen is not None
            and up_to_date
            and not report.changed
            and same_embedder
            and not report.kept_previous
        ):
            report.generation = prev_gen
            report.seconds = time.perf_counter() - started
            return report

        generation = layout.next_generation()
        name = collection_name(generation)
        collection = store.create(name, embedder.name)
        try:
            vectors: dict[str, np.ndarray] = {}
            if reuse_ids and prev_gen is not None:
                vectors.update(store.vectors_of(store.get(collection_name(prev_gen)), reuse_ids))
            missing = [c for c in chunks if c.id not in vectors]
            if missing and len(missing) != len(new_chunks):
                # Chunks that should have been reusable but were not found: embed them again.
                log.warning(
                    "re-embedding %d chunks missing from the previous collection", len(missing)
                )
            embedded = _embed_batches(
                [_embed_text(c) for c in missing], embedder, "embed", progress
            )
            vectors.update(zip((c.id for c in missing), embedded, strict=True))
            report.embedded = len(missing)
            written = {source for source, meta in docs.items() if meta.curated}
            windows, owner = _embed_windows(chunks, written, embedder, progress)
            matrix = (
                np.stack([vectors[c.id] for c in chunks]).astype(np.float32)
                if chunks
                else np.zeros((0, 0), dtype=np.float32)
            )
            if chunks:
                store.add(
                    collection,
                    [c.id for c in chunks],
                    matrix,
                    [c.text for c in chunks],
                    [
                        {
                            "source": c.source,
                            "title": c.title,
                            "section": c.section,
                            "position": c.position,
                        }
                        for c in chunks
                    ],
                )
            if progress:
                progress("lexical", 0, 1)
            lexical = LexicalIndexes.build(chunks)
            manifest = Manifest(
                generation=generation,
                embedder=embedder.name,
                lexical_version=LEXICAL_VERSION,
                roots=[str(p) for p in paths],
                files=entries,
                created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
            write_generation(layout.gen_dir(generation), manifest, chunks, docs, lexical)
            np.save(layout.gen_dir(generation) / VECTORS_FILE, matrix)
            if windows is not None:
                np.save(layout.gen_dir(generation) / WINDOWS_FILE, windows)
                np.save(layout.gen_dir(generation) / WINDOW_OWNER_FILE, owner)
            layout.publish(generation)
        except BaseException:
            store.drop(name)
            layout.prune(
                keep={g for g in (prev_gen,) if g is not None} | _other_complete(layout, generation)
            )
            raise
        # Keep the previous generation one round, for readers that still have it open.
        keep = {generation} | ({prev_gen} if prev_gen is not None else set())
        layout.prune(keep)
        for old_name in store.names():
            if old_name.startswith(name[: -len(str(generation))]) and old_name not in {
                collection_name(g) for g in keep
            }:
                store.drop(old_name)
        report.generation = generation
        report.new_generation = True
        report.seconds = time.perf_counter() - started
        return report


def _other_complete(layout: IndexLayout, failed: int) -> set[int]:
    return {
        int(p.name[1:])
        for p in layout.root.glob("g[0-9]*")
        if p.name[1:].isdigit() and int(p.name[1:]) != failed and (p / "manifest.json").exists()
    }


def _embed_windows(
    chunks: list[Chunk], written: set[str], embedder: Embedder, progress: Progress | None
) -> tuple[np.ndarray | None, np.ndarray]:
    """The vectors of the chunks' sentence windows (None where there are none, or the embedder
    embeds none); the embedding cache keeps those of unchanged text, whatever the generation."""
    if not embeds_windows(embedder.name):
        return None, np.zeros(0, dtype=np.int64)
    texts, owner = windows_of(chunks, written)
    if not texts:
        return None, owner
    return np.stack(_embed_batches(texts, embedder, "windows", progress)), owner


def _embed_batches(
    texts: list[str], embedder: Embedder, stage: str, progress: Progress | None
) -> list[np.ndarray]:
    """The texts' vectors (float32), embedded a batch at a time: a batch is a few seconds of the
    bundled model, so progress stays visible."""
    out: list[np.ndarray] = []
    batch = 32
    for start in range(0, len(texts), batch):
        out.extend(
            np.asarray(v, dtype=np.float32)
            for v in embedder.embed_documents(texts[start : start + batch])
        )
        if progress:
            progress(stage, min(start + batch, len(texts)), len(texts))
    return out


def _embed_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.section}\n{chunk.searchable}"


def refresh_shipped_vectors(knowledge_dir: Path, cache: Path) -> int:
    """Rewrite the knowledge folder's shipped vectors to hold exactly its current text's, taking
    what the shipped file and the cache already have; returns how many texts it holds."""
    import sqlite3
    import tempfile

    from bot.knowledge.embeddings import CachedEmbedder, E5Embedder
    from bot.knowledge.vectorstore import open_client

    shipped = knowledge_dir / SHIPPED_VECTORS
    fresh = shipped.with_name(shipped.name + ".new")
    fresh.unlink(missing_ok=True)
    embedder = CachedEmbedder(E5Embedder(), fresh, [shipped, cache])
    with tempfile.TemporaryDirectory(prefix="itaku-vectors-") as tmp:
        run_index([knowledge_dir], Path(tmp), embedder, VectorStore(open_client(Path(tmp), None)))
    with sqlite3.connect(fresh) as db:
        count = int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        db.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    with sqlite3.connect(fresh) as db:
        db.execute("VACUUM")
    fresh.replace(shipped)
    return count

"""Split documents into chunks on headings and sentence boundaries.

A chunk never crosses a heading and never cuts a sentence: sentences are packed greedily up to
``max_chars``. A single sentence longer than ``hard_max_chars`` (a table row, a run-on line in a
PDF) is the only thing ever cut, at a clause boundary (、，, ;) where one exists."""

from __future__ import annotations

import hashlib
import re

from bot.knowledge.models import Chunk, LoadedDocument
from bot.knowledge.text import split_sentences

DEFAULT_MAX_CHARS = 400
HARD_MAX_CHARS = 1200
_CLAUSE = re.compile(r"(?<=[、，,;；])")


def source_key(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


def chunk_document(doc: LoadedDocument, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    chunks: list[Chunk] = []
    key = source_key(doc.source)
    for block in doc.blocks:
        path = block.heading_path
        if path and path[0] == doc.meta.title:  # the title is shown anyway: not part of the section
            path = path[1:]
        section = " > ".join(path)
        questions = tuple(doc.meta.questions.get(block.heading_path[-1], ())) if path else ()
        for text in pack_sentences(split_sentences(block.text), max_chars):
            chunks.append(
                Chunk(
                    id=f"{key}-{len(chunks):05d}",
                    source=doc.source,
                    title=doc.meta.title,
                    section=section,
                    text=text,
                    position=len(chunks),
                    questions=questions,
                )
            )
    return chunks


def pack_sentences(sentences: list[str], max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
    """Greedily pack whole sentences into pieces of at most max_chars (a longer sentence
    stands alone; only sentences over HARD_MAX_CHARS are cut at clause boundaries)."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in sentences:
        for part in _cut_overlong(sentence):
            if current and size + len(part) > max_chars:
                pieces.append(_join(current))
                current, size = [], 0
            current.append(part)
            size += len(part)
    if current:
        pieces.append(_join(current))
    return pieces


def _join(sentences: list[str]) -> str:
    # Japanese sentences join without a space; keep line structure so lists stay readable.
    return "\n".join(sentences)


def _cut_overlong(sentence: str) -> list[str]:
    if len(sentence) <= HARD_MAX_CHARS:
        return [sentence]
    parts: list[str] = []
    current = ""
    for clause in _CLAUSE.split(sentence):
        while len(clause) > HARD_MAX_CHARS:  # no clause boundary at all: cut blind
            if current:
                parts.append(current)
                current = ""
            parts.append(clause[:HARD_MAX_CHARS])
            clause = clause[HARD_MAX_CHARS:]
        if len(current) + len(clause) > HARD_MAX_CHARS and current:
            parts.append(current)
            current = ""
        current += clause
    if current:
        parts.append(current)
    return parts

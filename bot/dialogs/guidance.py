"""A step's guidance, quoted from the knowledge base with its citation (the passage named by the
step's Guidance: a document and words of its section heading)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.dialogs.spec import Guidance
from bot.knowledge.search import KnowledgeBase
from bot.knowledge.text import split_sentences

MAX_CHARS = 280


@dataclass(frozen=True)
class StepGuidance:
    text: str
    title: str
    section: str
    source: str
    url: str | None = None


class GuidanceLibrary:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._lookup = lru_cache(maxsize=256)(self._find)

    def for_step(self, guidance: Guidance | None) -> StepGuidance | None:
        return self._lookup(guidance) if guidance is not None else None

    def _find(self, guidance: Guidance) -> StepGuidance | None:
        chunks = [
            c
            for c in self.kb.chunks
            if c.source == guidance.source and guidance.section in c.section
        ]
        if not chunks:
            return None
        chunk = min(chunks, key=lambda c: c.position)
        text = ""
        for sentence in split_sentences(chunk.text):
            if sentence.lstrip().startswith(("-", "#")) and text:
                break
            candidate = f"{text}{sentence.lstrip('- ').strip()}"
            if len(candidate) > MAX_CHARS and text:
                break
            text = candidate
        meta = self.kb.docs.get(chunk.source)
        url = next((r.url for r in meta.sources if r.url), None) if meta is not None else None
        return StepGuidance(text[:MAX_CHARS], chunk.title, chunk.section, chunk.source, url)

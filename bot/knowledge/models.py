"""Data that flows through the knowledge pipeline: documents, their front matter, chunks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DocKind = Literal["guidance", "template", "checklist", "case", "law"]


class SourceRef(BaseModel):
    """Where a fact comes from: a law, a guideline, a page."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    url: str | None = None
    note: str | None = None

    @field_validator("title", "note", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: object) -> object:
        # YAML reads `note: 5.20` as a float; a curator meant the text "5.20".
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class DocMeta(BaseModel):
    """Front matter of a knowledge-base document (validated strictly: a typo is an error)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    kind: DocKind
    tags: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(min_length=1)
    as_of: dt.date
    # a template's machine-readable part (parameters, variants, explanation), read by bot/drafting
    drafting: dict[str, Any] | None = None
    # questions a section answers, by its heading, as a curator would paraphrase them (colloquial,
    # English): matched like the section's text, never shown
    questions: dict[str, list[str]] = Field(default_factory=dict)
    # set by the loader, not written: whether the document came with front matter (written for
    # Itaku, each section opening with its answer) or is a file as found (text, PDF, Word)
    curated: bool = False

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_as_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        return value


@dataclass(frozen=True)
class Block:
    """A run of text under one heading path (a Markdown section, a PDF page, …)."""

    heading_path: tuple[str, ...]
    text: str


@dataclass
class LoadedDocument:
    source: str  # path relative to the indexed root's parent, POSIX style: stable across machines
    meta: DocMeta
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Chunk:
    """The unit of retrieval: a few whole sentences under one heading path."""

    id: str
    source: str
    title: str
    section: str  # heading path joined with " > " (without the document title)
    text: str
    position: int  # order within its document
    questions: tuple[str, ...] = ()  # the section's curated paraphrases (front matter)

    @property
    def searchable(self) -> str:
        """What the lexical indexes hold for this chunk: its text and the questions it answers."""
        return "\n".join((self.text, *self.questions))

    def to_record(self) -> dict[str, object]:
        rec: dict[str, object] = {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "text": self.text,
            "position": self.position,
        }
        if self.questions:
            rec["questions"] = list(self.questions)
        return rec

    @classmethod
    def from_record(cls, rec: dict[str, object]) -> Chunk:
        questions = rec.get("questions")
        return cls(
            id=str(rec["id"]),
            source=str(rec["source"]),
            title=str(rec["title"]),
            section=str(rec["section"]),
            text=str(rec["text"]),
            position=int(str(rec["position"])),
            questions=tuple(str(q) for q in questions) if isinstance(questions, list) else (),
        )

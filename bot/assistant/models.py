"""The answer contract. `itaku ask --json` prints Answer.model_dump(); other tools depend on
`answer`, `citations[].source`, `citations[].title` and `abstained`: keep them stable."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Reference(BaseModel):
    title: str
    url: str | None = None


class Citation(BaseModel):
    n: int = Field(description="the number used in the answer text, [n]")
    source: str = Field(
        description="knowledge-base file, e.g. knowledge/law/appi_breach_reporting.md"
    )
    title: str
    section: str = ""
    kind: str = ""
    as_of: str = ""
    url: str | None = Field(default=None, description="first linked original source, if any")
    references: list[Reference] = Field(
        default_factory=list, description="the document's own sources"
    )
    quote: str = Field(default="", description="the retrieved text the answer drew on")


class Answer(BaseModel):
    question: str
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    abstained: bool
    lang: str = "ja"
    reason: str | None = Field(default=None, description="why the assistant abstained, if it did")
    confidence: float = 0.0
    latency_ms: float = 0.0
    generated_by: str = Field(default="extractive", description="extractive (offline) or llm")

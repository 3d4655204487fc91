"""The glossary (knowledge/glossary.yaml): synonym groups that widen queries, so that a
colloquial, variant or English word (下請け, 漏洩, subcontract) finds the Japanese guidance."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.knowledge.text import has_japanese, normalize, stem_english

_KATAKANA = re.compile(r"[ァ-ヶー]")


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")
    canonical: str = Field(min_length=1)
    terms: list[str] = Field(min_length=1)
    # words that name a place where the group's meaning holds (the EU's countries and cities for
    # 同等水準国): they find the group like its terms, and a match says a place was named
    places: list[str] = Field(default_factory=list)


class _GlossaryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    groups: list[_Group]


@dataclass(frozen=True)
class Concept:
    """A glossary group matched in a question."""

    canonical: str
    matched: str  # the text of the question that matched (normalised)
    alternatives: tuple[str, ...]  # normalised Japanese forms to look for in the knowledge base
    place: bool = False  # matched one of the group's places


class Glossary:
    def __init__(
        self, groups: list[tuple[str, list[str]]], places: dict[str, list[str]] | None = None
    ) -> None:
        self._concepts: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._places = {
            (canonical, stem_english(normalize(p)))
            for canonical, names in (places or {}).items()
            for p in names
        }
        ja_terms: list[str] = []
        en_terms: list[str] = []
        for canonical, terms in groups:
            canon = normalize(canonical)
            every = [*terms, *(places or {}).get(canonical, [])]
            alts = [canon] + [n for t in every if (n := normalize(t)) != canon and has_japanese(n)]
            alternatives = tuple(dict.fromkeys(alts))
            for term in {stem_english(normalize(t)) for t in [canonical, *every]}:
                if not term.strip():
                    continue
                self._concepts.setdefault(term, (canonical, alternatives))
                (ja_terms if has_japanese(term) else en_terms).append(term)
        # Longest first, so 再委託承認申請書 wins over 再委託 and "data breach" over "breach".
        ja_terms.sort(key=len, reverse=True)
        en_terms.sort(key=len, reverse=True)
        self._ja = re.compile("|".join(re.escape(t) for t in ja_terms)) if ja_terms else None
        self._en = (
            re.compile(
                r"(?<![a-z0-9])(?:"
                + "|".join(re.escape(t).replace(r"\ ", "[ -]") for t in en_terms)
                + r")(?![a-z0-9])"
            )
            if en_terms
            else None
        )

    @classmethod
    def load(cls, path: Path) -> Glossary:
        if not path.exists():
            return cls([])
        # libyaml's loader when the wheel has it: the pure-Python one costs ~0.2 s of cold start.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        data = _GlossaryFile.model_validate(raw)
        return cls(
            [(g.canonical, g.terms) for g in data.groups],
            {g.canonical: g.places for g in data.groups if g.places},
        )

    @staticmethod
    def _ends_inside_word(terms: re.Pattern[str], norm: str, end: int) -> bool:
        """Whether a Japanese match ends inside a longer katakana word (データ in データベース, whose
        rest would be left over as a word of its own). One that another term follows is a
        compound of two (セキュリティ + ガイドライン)."""
        if not (
            0 < end < len(norm) and _KATAKANA.match(norm[end - 1]) and _KATAKANA.match(norm[end])
        ):
            return False
        return terms.match(norm, end) is None

    def match(self, text: str) -> list[Concept]:
        """Concepts named in the text, longest matches first, without overlaps. `matched` is
        in the form `prepare_text` gives: normalised, English inflections folded."""
        norm = stem_english(normalize(text))
        found: list[Concept] = []
        taken: list[tuple[int, int]] = []
        for pattern in (self._ja, self._en):
            if pattern is None:
                continue
            for m in pattern.finditer(norm):
                start, end = m.span()
                if any(start < e and s < end for s, e in taken):
                    continue
                if pattern is self._ja and self._ends_inside_word(pattern, norm, end):
                    continue
                taken.append((start, end))
                # "call-center" is written "call center" in the glossary
                key = m.group(0)
                canonical, alternatives = (
                    self._concepts.get(key) or self._concepts[key.replace("-", " ")]
                )
                place = bool({(canonical, key), (canonical, key.replace("-", " "))} & self._places)
                found.append(Concept(canonical, m.group(0), alternatives, place))
        return found


def prepare_text(text: str) -> str:
    """The form of a question that glossary matches refer to."""
    return stem_english(normalize(text))

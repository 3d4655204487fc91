"""Offline, extractive answers: the sentences of the retrieved chunks that answer the question,
in reading order, each tied to a numbered source. Refuses when the best chunks do not cover the
question's key terms, instead of stitching unrelated text together."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.assistant.answer_type import answer_type
from bot.assistant.models import Answer, Citation, Reference
from bot.knowledge.models import Chunk, DocMeta
from bot.knowledge.query import PreparedQuery
from bot.knowledge.search import HybridSearcher, SearchResult, sentence_features
from bot.knowledge.text import normalize

# A clause heading on its own line (第18条（有効期間及び残存条項）) says nothing by itself.
_INTRODUCES_LIST = re.compile(r"(次の|以下の)[^。]{0,20}(。|：|:)$")
_HEADING_LINE = re.compile(r"^第\d+条（[^）]*）$|^[^。！？!?]{0,24}$")


@dataclass(frozen=True)
class ComposePolicy:
    min_coverage: float = (
        0.45  # share of the question's key terms (by idf) the best chunk must hold
    )
    max_sentences: int = 4
    follow_ratio: float = 0.75  # extra sentences must score at least this share of the best one
    chunks_considered: int = 3
    answer_type_bonus: float = 0.15  # for a sentence that holds the kind of answer asked for
    duplicate_jaccard: float = 0.5  # sentences this similar (character bigrams) count as one
    placeholder_penalty: float = 0.3
    max_list_items: int = 8


@dataclass
class _Candidate:
    hit_rank: int
    position: int
    sentence: str
    score: float


def compose_answer(
    q: PreparedQuery,
    result: SearchResult,
    docs: dict[str, DocMeta],
    policy: ComposePolicy,
) -> tuple[str, list[Citation], float]:
    """Return (answer text, citations, confidence). Empty text means: abstain."""
    hits, scorer, weights = result.hits, result.scorer, result.key_weights
    if not hits or not q.key_terms:
        return "", [], 0.0
    considered = hits[: policy.chunks_considered]
    best_cov = max(h.coverage for h in considered)
    if best_cov < policy.min_coverage:
        return "", [], best_cov
    expected = answer_type(q.text)
    top_score = hits[0].score or 1.0
    candidates: list[_Candidate] = []
    for rank, hit in enumerate(considered):
        if hit.coverage < policy.min_coverage * 0.75:
            continue
        heading = normalize(f"{hit.chunk.title}\n{hit.chunk.section}")
        for pos, (sentence, tokens) in enumerate(sentence_features(hit.chunk.text)):
            if len(sentence) < 4 or _HEADING_LINE.match(sentence):
                continue
            cov = HybridSearcher.coverage(
                q.key_terms, weights, heading + "\n" + normalize(sentence)
            )
            score = 0.45 * cov + 0.45 * scorer.score_tokens(tokens) + 0.1 * (hit.score / top_score)
            if expected is not None and expected.matches(sentence):
                score += policy.answer_type_bonus
            if "{{" in sentence:  # a form's fill-in line is no answer in itself
                score -= policy.placeholder_penalty
            candidates.append(_Candidate(rank, pos, sentence, score))
    if not candidates:
        return "", [], best_cov
    best = max(c.score for c in candidates)
    chosen: list[_Candidate] = []
    chosen_grams: list[set[str]] = []
    for c in sorted(candidates, key=lambda c: -c.score):
        if len(chosen) >= policy.max_sentences or c.score < policy.follow_ratio * best:
            break
        grams = _bigrams(c.sentence)
        # Several documents may state the same fact: say it once.
        if any(_jaccard(grams, g) >= policy.duplicate_jaccard for g in chosen_grams):
            continue
        chosen.append(c)
        chosen_grams.append(grams)
    chosen.sort(key=lambda c: (c.hit_rank, c.position))

    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    shown = {(c.hit_rank, c.position) for c in chosen}
    lines: list[str] = []
    for c in chosen:
        chunk = considered[c.hit_rank].chunk
        key = f"{chunk.source}#{chunk.section}"
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            citations.append(citation_for(numbers[key], chunk, docs.get(chunk.source)))
        lines.append(f"{c.sentence} [{numbers[key]}]")
        if _INTRODUCES_LIST.search(c.sentence):
            # "…次の事項を確認する。" announces a list: the answer is the list that follows.
            sentences = sentence_features(chunk.text)
            for pos in range(
                c.position + 1, min(len(sentences), c.position + 1 + policy.max_list_items)
            ):
                if (c.hit_rank, pos) in shown:
                    continue
                shown.add((c.hit_rank, pos))
                lines.append(f"・{sentences[pos][0]}")
    return "\n".join(lines), citations, best_cov


def _bigrams(sentence: str) -> set[str]:
    norm = normalize(sentence)
    return {norm[i : i + 2] for i in range(len(norm) - 1)}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def citation_for(n: int, chunk: Chunk, meta: DocMeta | None) -> Citation:
    refs = [Reference(title=s.title, url=s.url) for s in meta.sources] if meta else []
    return Citation(
        n=n,
        source=chunk.source,
        title=chunk.title,
        section=chunk.section,
        kind=meta.kind if meta else "",
        as_of=meta.as_of.isoformat() if meta else "",
        url=next((r.url for r in refs if r.url), None),
        references=refs,
        quote=chunk.text,
    )


def abstention(
    question: str, lang: str, message: str, reason: str, confidence: float = 0.0
) -> Answer:
    return Answer(
        question=question,
        answer=message,
        citations=[],
        abstained=True,
        lang=lang,
        reason=reason,
        confidence=round(confidence, 3),
    )

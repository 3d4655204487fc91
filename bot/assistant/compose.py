"""Offline, extractive answers built from sections.

The unit of an answer is the best-matching section (its heading path is its subject). Its
sentence that best answers the question comes first (knowledge-base sections are written so that
their first sentence does); then, for a question that asks what / which / how / for steps, the
section's list in order, or otherwise up to two more of its sentences that are not said already
(in reading order); then at most one sentence from another section or source, only when it
adds a fact.
When the question asks for a kind of answer (a count, a deadline) that the best section does not
hold and a close runner-up's does, the runner-up's section answers. Sentences that talk about a
document (「このチェックリストは…である」) are never shown, and no fact is said twice.

Whether to answer at all is decided first (`coverage.assess`): a question whose subject the
knowledge base does not hold is refused instead of being answered with whatever shares a word."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.assistant.answer_type import AnswerType, answer_type, asks_for_items, asks_for_list
from bot.assistant.coverage import Coverage, assess
from bot.assistant.heading_roles import (
    asked_year,
    by_heading_role,
    in_other_setting,
    names_year,
)
from bot.assistant.models import Answer, Citation, Reference
from bot.assistant.parts import Part, question_parts
from bot.knowledge.loaders import LIST_ITEM
from bot.knowledge.models import Chunk, DocMeta
from bot.knowledge.query import FRAMING_TERMS, KeyTerm, PreparedQuery
from bot.knowledge.search import Hit, HybridSearcher, KnowledgeBase, SearchResult, sentence_features
from bot.knowledge.text import has_japanese, normalize

# A clause heading on its own line (第18条（有効期間及び残存条項）) says nothing by itself.
_HEADING_LINE = re.compile(r"^第\d+条（[^）]*）$|^[^。！？!?]{0,24}$")
_INTRODUCES_LIST = re.compile(r"(次の|以下の|下記の)[^。]{0,30}(。|：|:)$|[：:]$")
# A sentence that refers back to the one before it.
_ANAPHORA = re.compile(
    r"^(この|その|これ|それ|同|上記|前記|こうした|そうした|また、|さらに、|ただし、)"
)
# A numbered paragraph of a contract clause (「1 乙は、秘密情報を…」).
_CLAUSE_PARAGRAPH = re.compile(r"^[0-9０-９]+\s*[　 ]\s*[甲乙]")
# A sentence about the document itself, not about the subject.
_META = re.compile(
    r"^(この|本|当)(チェックリスト|ドキュメント|文書|資料|節|章|項|ページ|テンプレート|ひな形|条項集|一覧|表)"
    r"|(項目集|一覧|まとめ|チェックリスト|テンプレート|ひな形)(で|だ)ある。?$"
    r"|順に並べたもの|を整理したもの|をまとめたもの|のための(項目|資料|文書)"
    # a pointer to another document (「対応の詳細は「…チェックリスト」にまとめている。」)
    r"|(^|の|、)(詳細|詳しく|具体的な手順)は[^。]*(にまとめ|を参照|を参考|に載せ|に記載して|で説明して)"
)


# a question that compares with what it names (「…と同じ考え方でいい？」, "the same as")
_COMPARES = re.compile(
    r"と同じ|と同様|と違|と異な|と比べ|との違い|same as|different from|differ from|compared (?:to|with)"
)
# a question about the time before a rule (「規定が新設される以前はどう扱われていた？」) and the
# sentence that tells it (「…ができる前は、裁判所が第104条を類推適用していた」)
_ASKS_BEFORE = re.compile(
    r"(新設|改正|施行|制定|導入|でき|作られ|設けられ)[^。？?]{0,6}(以前|前)(は|に|の|、|まで|って)|改正前|それ以前"
    r"|\bbefore (?:the|it|this|that)\b[^.?]{0,40}\b(?:added|introduced|enacted|amended|created"
    r"|existed|took effect)\b|\bprior to (?:the|its) (?:amendment|reform|enactment)\b"
)
_TELLS_BEFORE = re.compile(r"(以前|前)は|改正前|かつては|それまでは")


@dataclass(frozen=True)
class ComposePolicy:
    min_coverage: float = 0.45  # words only: share of the key terms (by idf) the best chunk holds
    chunks_considered: int = 5  # hits weighed for coverage and for the supporting sentence
    answer_type_bonus: float = 0.15  # for a sentence that holds the kind of answer asked for
    lead_bonus: float = 0.12  # a section's first sentence is written to answer its heading
    # a sentence naming the things asked for opens instead of the lead, at this share of it
    summary_ratio: float = 0.65
    duplicate_share: float = 0.6  # a sentence whose bigrams are this much said already adds nothing
    placeholder_penalty: float = 0.3
    max_list_items: int = 15
    max_extra_sentences: int = 2  # from the answer's own section, when it is not a list
    # the supporting sentence must score this share of the lead (it must add a fact as well);
    # 0.6 and 5 hits answered 1–4 more questions on each of the four sets, refusing as many
    support_ratio: float = 0.6
    extra_ratio: float = 0.4  # a further sentence of the section must score this share of the lead
    section_ratio: float = 0.7  # a lower hit that holds the kind of answer asked for, within this
    part_ratio: float = 0.5  # a sentence answering another part of the question, of the lead
    # a Japanese question whose answering section holds none of its key terms is refused below
    # this similarity (the sets: one near miss refused, no answer lost; English is left out, as
    # its words reach the Japanese text only through the glossary)
    unrelated_sim: float = 0.9
    role_window: int = 12  # hits a wide heading role may reach (the search returns as many)
    # a heading that names as many things as the question asks for (「3つの義務」 for 「3つ挙げて」)
    # is a strong sign: within this share of the best score, it answers
    count_ratio: float = 0.6


# scores a sentence of a chunk (its text, the chunk, its character n-grams, the chunk's hit score)
_Scorer = Callable[[str, Chunk, frozenset[str], float], float]


@dataclass
class _Sentence:
    text: str
    chunk: Chunk
    position: int  # in the section, across its chunks
    score: float
    is_item: bool


def compose_answer(
    q: PreparedQuery,
    result: SearchResult,
    kb: KnowledgeBase,
    policy: ComposePolicy,
) -> tuple[str, list[Citation], Coverage]:
    """Return (answer text, citations, coverage). Empty text means: abstain."""
    expected = answer_type(q.text)
    cov = assess(q, result, policy.min_coverage, policy.chunks_considered, expected)
    if not cov.answer:
        return "", [], cov
    hits = result.hits
    scorer, weights = result.scorer, result.key_weights
    best = _best_section_hit(kb, hits, expected, policy)
    best = by_heading_role(q, hits, best, policy, kb.docs)
    top_score = best.score or 1.0

    def score(sentence: str, chunk: Chunk, tokens: frozenset[str], hit_score: float) -> float:
        heading = normalize(f"{chunk.title}\n{chunk.section}")
        c = HybridSearcher.coverage(q.key_terms, weights, heading + "\n" + normalize(sentence))
        s = 0.45 * c + 0.45 * scorer.score_tokens(tokens) + 0.1 * (hit_score / top_score)
        if expected is not None and expected.matches(sentence):
            s += policy.answer_type_bonus
        if "{{" in sentence:  # a form's fill-in line is no answer in itself
            s -= policy.placeholder_penalty
        return s

    if (
        q.lang == "ja"
        and _coverage_beyond_laws(q, result, best.normalized) < UNRELATED_SHARE
        and (best.similarity or 0.0) < policy.unrelated_sim
    ):
        # the section that would answer holds none of the question's words (a law's name aside:
        # 「マイナンバー法の罰則は？」 is not answered by its rule on subcontracting) and is not
        # close in meaning: the words were covered elsewhere (社内, システム, パスワード)
        return "", [], cov
    whole = normalize(q.text)  # the question with its situation, as the rules below read it
    if _names_other_law(q, kb, best, whole):
        # 「番号法で…の罰則は？」 answered with the APPI's penalties: the law asked about is not
        # the answer's (the knowledge base does not hold that law's provision)
        return "", [], cov
    section = _section_sentences(kb, best, score)
    if not section:
        return "", [], cov
    first = min((s.position for s in section if not s.is_item), default=section[0].position)
    # a sentence that leans on the one before it (「この条項で…」) cannot open an answer
    leads = [s for s in section if s.position == first or not _ANAPHORA.match(s.text)]
    # a clause's numbered paragraph (「1 乙は、…」) is the form's wording, not an answer in
    # itself: the section's prose opens where it has some
    prose = [s for s in leads if not _CLAUSE_PARAGRAPH.match(s.text)]
    leads = prose or leads
    if expected is not None and q.lang == "en":
        # an English question shares little wording with the Japanese sentences, so the kind of
        # answer it asks for (who: a body; when: a date) decides which of them opens
        typed = [s for s in leads if not s.is_item and expected.matches(s.text)]
        leads = typed or leads

    def opens(s: _Sentence) -> float:
        return s.score + (policy.lead_bonus if s.position == first else 0)

    lead = max(leads, key=opens)
    if asks_for_items(q.asked) and not _enumerates(lead.text):
        # a question for several things opens with the sentence that names them all, where the
        # section has one (「委託契約には、機密情報の範囲、記録媒体の施錠保管、…を盛り込む。」),
        # not with the sentence that says why they matter
        summary = [s for s in leads if not s.is_item and _enumerates(s.text)]
        if summary:
            best_summary = max(summary, key=opens)
            if opens(best_summary) >= policy.summary_ratio * opens(lead):
                lead = best_summary
    year = asked_year(q.asked, whole)
    if year is not None and not names_year(lead.text, year):
        # a question about one year of a section that spans several (「2025年版では何位？」)
        # opens with the sentence on that year
        dated = [s for s in leads if names_year(s.text, year)]
        if dated:
            lead = max(dated, key=opens)
    if _ASKS_BEFORE.search(normalize(q.asked)) and not _TELLS_BEFORE.search(lead.text):
        # … and one about the time before a rule opens with what was done then
        earlier = [s for s in leads if _TELLS_BEFORE.search(s.text)]
        if earlier:
            lead = max(earlier, key=opens)
    chosen: list[_Sentence] = [lead]
    list_items = [s for s in section if s.is_item and s is not lead]
    wants_list = asks_for_list(q.text) or bool(_INTRODUCES_LIST.search(lead.text))
    if list_items and (wants_list or lead.is_item):
        # the section's list, in order (the lead may be one of its items: show them all)
        chosen.extend(list_items[: policy.max_list_items])
    else:
        rest = sorted(
            (s for s in section if s is not lead and not s.is_item),
            key=lambda s: -s.score,
        )
        for s in rest:
            if len(chosen) > policy.max_extra_sentences:
                break
            if s.score >= policy.extra_ratio * lead.score and not _repeats(s.text, chosen, policy):
                chosen.append(s)
        # in the section's reading order, after the lead
        chosen[1:] = sorted(chosen[1:], key=lambda s: s.position)
    # a question that asks several things opens with an answer to each of them
    opening = _part_answers(q, result, lead, section, hits, best.chunk, score, policy)
    chosen = [chosen[0], *(s for s in chosen[1:] if s not in opening)]
    outside = next((s for s in opening if not _same_section(s.chunk, best.chunk)), None)
    support = None
    if outside is None:
        support = _support(
            hits, best.chunk, chosen + opening, score, policy, lead.score, whole.lower()
        )

    citations: list[Citation] = [citation_for(1, best.chunk, kb.docs.get(best.chunk.source))]
    if outside is not None:
        citations.append(citation_for(2, outside.chunk, kb.docs.get(outside.chunk.source)))
    head = [f"{_plain(lead.text)} [1]"]
    head += [f"{_plain(s.text)} [{1 if s is not outside else 2}]" for s in opening]
    lines = [" ".join(head)]
    for s in chosen[1:]:
        lines.append(f"・{_plain(s.text)}" if s.is_item or wants_list else f"{_plain(s.text)} [1]")
    if support is not None:
        citations.append(citation_for(2, support.chunk, kb.docs.get(support.chunk.source)))
        lines.append(f"{_plain(support.text)} [2]")
    return "\n".join(lines), citations, cov


def _enumerates(sentence: str) -> bool:
    """Whether a sentence names several things in a row (four commas or more, or a count of
    them after their names: 「…選定、…締結、…把握の3つを挙げている」)."""
    commas = sentence.count("、")
    return commas >= 4 or (commas >= 2 and _COUNTS_THEM.search(sentence) is not None)


_COUNTS_THEM = re.compile(r"の(\d+|[二三四五六七八九])つ(を|が|で|に|の)")


def _is_law(term: KeyTerm) -> bool:
    """A law the glossary knows by name (番号法, 民法, 不正競争防止法…; 準拠法 is a clause)."""
    return term.from_glossary and term.text.endswith("法") and term.text != "準拠法"


# a deadline is what is asked of a subject, not a subject (FRAMING_TERMS): 「フリーランスへの報酬
# の支払期日は何日以内？」 is not answered by a section that shares only 期限 with it; nor does a
# contract word alone (委託先, weighed 0.5 against 4 for 報酬): under this share of
# the question's weight, the section holds none of what it is about
UNRELATED_SHARE = 0.05


def _coverage_beyond_laws(q: PreparedQuery, result: SearchResult, norm_text: str) -> float:
    """The share of the question's key terms a text holds, the laws it names and the deadline
    asked for left out when it names anything else."""
    keep = [
        i for i, t in enumerate(q.key_terms) if not _is_law(t) and t.text not in FRAMING_TERMS
    ] or list(range(len(q.key_terms)))
    return HybridSearcher.coverage(
        [q.key_terms[i] for i in keep], [result.key_weights[i] for i in keep], norm_text
    )


def _names_other_law(q: PreparedQuery, kb: KnowledgeBase, best: Hit, whole: str) -> bool:
    """Whether the question names laws (glossary concepts: 番号法, 民法…) none of which the
    answering section, with its document's title, names (one of two named is a comparison:
    「マイナンバーの再委託は個人情報保護法と同じ考え方でいい？」)."""
    laws = [t for t in q.key_terms if _is_law(t)]
    if not laws or _COMPARES.search(whole):
        # (a law named to compare with: 「マイナンバーの再委託も個人情報保護法と同じ考え方で
        # いい？」 is answered by the My Number Act's rule)
        return False
    chunk = best.chunk
    text = normalize(
        "\n".join([chunk.title, chunk.section, *(c.text for c in kb.section_of(chunk))])
    )
    return not any(t.occurs_in(text) for t in laws)


def _part_answers(
    q: PreparedQuery,
    result: SearchResult,
    lead: _Sentence,
    section: list[_Sentence],
    hits: list[Hit],
    answer_chunk: Chunk,
    score: _Scorer,
    policy: ComposePolicy,
) -> list[_Sentence]:
    """For a question that asks several things, a sentence for each part that the lead does not
    answer: of the answer's section first, else of one other section among the best hits (which
    then is the answer's second source). Each must hold the kind of answer its part asks for (a
    number, a date, a body) and cover most of the part's own key terms."""
    parts = question_parts(q)
    if not parts:
        return []
    pool = [s for s in section if s is not lead]
    for hit in hits[1 : policy.chunks_considered]:
        if _same_section(hit.chunk, answer_chunk):
            continue
        for pos, (sentence, tokens) in enumerate(sentence_features(hit.chunk.text)):
            if _showable(sentence):
                s = score(sentence, hit.chunk, tokens, hit.score)
                pool.append(_Sentence(sentence, hit.chunk, pos, s, sentence.startswith(LIST_ITEM)))
    picked: list[_Sentence] = []
    outside: Chunk | None = None
    # the parts the question asks before the situation told (「新しい委託先と契約書を作っています。」):
    # another section's sentence, if any, answers what was asked
    context = normalize(q.context)
    for part in sorted(parts, key=lambda p: bool(context) and normalize(p.text) in context):
        said = [lead, *picked]
        if any(_answers_part(q, result, part, s) for s in said):
            continue
        fits = [
            s
            for s in pool
            if s not in picked
            and s.score >= policy.part_ratio * lead.score
            and _answers_part(q, result, part, s)
            and not _repeats(s.text, said, policy)
            and (_same_section(s.chunk, answer_chunk) or outside in (None, s.chunk))
        ]
        if fits:
            # the answer's own section before another's, then the best match
            choice = max(fits, key=lambda s: (_same_section(s.chunk, answer_chunk), s.score))
            if not _same_section(choice.chunk, answer_chunk):
                outside = choice.chunk
            picked.append(choice)
    return sorted(picked, key=lambda s: (not _same_section(s.chunk, answer_chunk), s.position))


def _same_section(a: Chunk, b: Chunk) -> bool:
    """Same document and heading path (clause files have sections without a heading)."""
    return a.source == b.source and a.section == b.section


def _answers_part(q: PreparedQuery, result: SearchResult, part: Part, s: _Sentence) -> bool:
    if part.expected is not None and not part.expected.matches(s.text):
        return False
    # the part's own words, where they can be found in Japanese text at all (a word the knowledge
    # base never uses, 用済み, cannot be)
    terms = [
        i
        for i in part.terms
        if (q.key_terms[i].from_glossary or has_japanese(q.key_terms[i].text))
        and not result.absent[i]
    ]
    if not terms:
        return part.expected is not None
    heading = normalize(f"{s.chunk.title}\n{s.chunk.section}")
    text = heading + "\n" + normalize(s.text)
    sentence = normalize(s.text)
    # the sentence itself must name one of them (the heading only says what it is about)
    if not any(any(a in sentence for a in q.key_terms[i].alternatives) for i in terms):
        return False
    cov = HybridSearcher.coverage(
        [q.key_terms[i] for i in terms], [result.key_weights[i] for i in terms], text
    )
    return cov >= 0.5


def _best_section_hit(
    kb: KnowledgeBase, hits: list[Hit], expected: AnswerType | None, policy: ComposePolicy
) -> Hit:
    """The hit whose section answers: the best one, unless the question asks for a kind of
    answer (a count, a deadline) that its section does not hold and a close runner-up's does."""
    best = hits[0]
    if expected is None or best.score <= 0:
        return best

    def holds(hit: Hit) -> bool:
        return any(expected.matches(part.text) for part in kb.section_of(hit.chunk))

    if holds(best):
        return best
    for hit in hits[1 : policy.chunks_considered]:
        if hit.score >= policy.section_ratio * best.score and holds(hit):
            return hit
    return best


def _section_sentences(kb: KnowledgeBase, hit: Hit, score: _Scorer) -> list[_Sentence]:
    """Every sentence of the hit's section that may be shown, in reading order, scored."""
    out: list[_Sentence] = []
    pos = 0
    for part in kb.section_of(hit.chunk):
        for sentence, tokens in sentence_features(part.text):
            pos += 1
            if _showable(sentence):
                s = score(sentence, part, tokens, hit.score)
                out.append(_Sentence(sentence, part, pos, s, sentence.startswith(LIST_ITEM)))
    return out


def _showable(sentence: str) -> bool:
    """Not a fragment, a bare clause heading, or a sentence about the document."""
    return len(sentence) >= 4 and not _HEADING_LINE.match(sentence) and not is_meta(sentence)


def _support(
    hits: list[Hit],
    answer_chunk: Chunk,
    chosen: list[_Sentence],
    score: _Scorer,
    policy: ComposePolicy,
    lead: float,
    question: str,
) -> _Sentence | None:
    """One sentence from another section (of this document or another), only when it adds a
    fact (a number, an article) that the answer does not hold yet: a question that asks two
    things (who grants the PrivacyMark, and how many hold it) finds the second in the
    neighbouring section. Never one on a setting the question does not name (abroad…)."""
    said = normalize("\n".join(s.text for s in chosen))
    best: _Sentence | None = None
    for hit in hits[1 : policy.chunks_considered]:
        if _same_section(hit.chunk, answer_chunk):
            continue  # the answer's own section: its sentences were weighed already
        for pos, (sentence, tokens) in enumerate(sentence_features(hit.chunk.text)):
            if not _showable(sentence):
                continue
            s = _Sentence(
                sentence, hit.chunk, pos, score(sentence, hit.chunk, tokens, hit.score), False
            )
            if s.score < policy.support_ratio * lead or (best and s.score <= best.score):
                continue
            if _repeats(sentence, chosen, policy) or not _adds_fact(sentence, said):
                continue
            if in_other_setting(question, sentence):
                continue
            best = s
    return best


_FACT = re.compile(r"\d[\d,.]*\s*(?:日|か月|ヶ月|カ月|時間|年|人|件|社|万|億|円|%|条|月)|第\d+条")


def _adds_fact(sentence: str, said: str) -> bool:
    norm = normalize(sentence)
    return any(m.group(0) not in said for m in _FACT.finditer(norm))


def is_meta(sentence: str) -> bool:
    """A sentence about the document (「このチェックリストは…」), never an answer."""
    return bool(_META.search(normalize(sentence).lstrip(LIST_ITEM)))


def _plain(sentence: str) -> str:
    return sentence.removeprefix(LIST_ITEM).strip()


def _repeats(sentence: str, chosen: list[_Sentence], policy: ComposePolicy) -> bool:
    """Whether most of the sentence (by character bigrams) is said already, by one sentence or
    by the answer so far (a summary sentence and the details it sums up say the same)."""
    grams = _bigrams(sentence)
    if not grams:
        return True
    said: set[str] = set()
    for c in chosen:
        said |= _bigrams(c.text)
    return len(grams & said) / len(grams) >= policy.duplicate_share


def _bigrams(sentence: str) -> set[str]:
    norm = normalize(_plain(sentence))
    return {norm[i : i + 2] for i in range(len(norm) - 1)}


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

"""Turn a question into what the index is searched with: weighted character and word terms,
glossary widening, and the key terms whose coverage decides whether the knowledge base knows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.knowledge.glossary import Concept, Glossary, prepare_text
from bot.knowledge.stopwords import EN_STOPWORDS
from bot.knowledge.text import detect_language, normalize
from bot.knowledge.tokenize import char_tokens, key_terms, word_tokens

EXPANSION_WEIGHT = 0.35  # a synonym counts, but less than the user's own word
HISTORY_WEIGHT = 0.5  # earlier question in a thread, for short follow-ups
MAX_ALTERNATIVES = 5
# the words of a situation told before the question (measured with `itaku bench kb`: 0.6 answered
# two more situational questions of the held-out set and lost none elsewhere; 0.4 lost some)
CONTEXT_WEIGHT = 0.6
# A Latin word (PKO, ISMS) is one token, where a Japanese word of the same weight in the question
# yields several character n-grams; weigh it up so it counts like one (JSQuAD: R@5 +0.1 pt).
LATIN_WORD_WEIGHT = 3.0
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,7}\b")
# two capitalised words or more in a row name a body or a thing ("the Consumer Affairs Agency")
_TITLED_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ -](?:of |and |for )?[A-Z][a-z]+)+\b")
_LATIN_WORD = re.compile(r"^[a-z][a-z0-9]*(?:[.'\-][a-z0-9]+)*$")

# A Japanese law named in the question (公益通報者保護法, 労働基準法): a compound ending in one
# of the words laws are named with (…保護法, …禁止法, …事業法), 改正 and the like aside; not a
# way of doing (表記法, 遠近法) nor 法人, 法令…
_LAW_NAME = re.compile(
    r"(?<![一-龥ァ-ヶー])(?:改正|現行|新|旧)?"
    r"([一-龥ァ-ヶー・]*?(?:保護|防止|基準|事業|促進|推進|規制|基本|措置|取引|禁止|契約|表示|保存|決済"
    r"|販売|整備|対策|派遣|安全|衛生|会社|特許|著作権|商標|競争|税|保険|労働|年金|訴訟|交通|通信|業)法)"
    r"(?![人令律務的規廷制則学科曹])"
)


def law_names(text: str) -> list[str]:
    """The Japanese law names a text mentions, normalised (their prefix 改正, 現行… aside)."""
    return [m.group(1) for m in _LAW_NAME.finditer(normalize(text))]


# key terms that name what is asked of a subject, not a subject (a deadline): a section that
# shares only these with a question is not about it
FRAMING_TERMS = frozenset({"期限"})
# words every question about outsourcing shares (the parties, the contract): no subject of
# their own either
CONTRACT_WORDS = frozenset({"契約", "契約書", "業務委託", "委託", "委託先", "委託元", "委託契約"})


@dataclass(frozen=True)
class KeyTerm:
    text: str
    alternatives: tuple[str, ...]  # normalised strings; any one present in a text covers the term
    from_glossary: bool = False
    # A Latin-script name in a Japanese question (GDPR, VPN) names a specific thing: if the
    # knowledge base never mentions it, that counts fully against coverage.
    specific: bool = False

    def occurs_in(self, norm: str) -> bool:
        """Whether a normalised text names the term (its own words or an alternative)."""
        return normalize(self.text) in norm or any(a and a in norm for a in self.alternatives)


@dataclass
class PreparedQuery:
    text: str
    lang: str  # "ja" | "en" | "other"
    char_terms: list[tuple[str, float]] = field(default_factory=list)
    word_terms: list[tuple[str, float]] = field(default_factory=list)
    key_terms: list[KeyTerm] = field(default_factory=list)
    vector_text: str = ""
    concepts: list[Concept] = field(default_factory=list)
    # a situation told around the question, and the question itself (its sentence that asks)
    context: str = ""
    asked: str = ""
    core: str = ""  # the question itself without a background clause (のですが、)
    follows: bool = False  # short enough to be read with the thread's previous question


def prepare_query(
    question: str, glossary: Glossary, history: list[str] | None = None
) -> PreparedQuery:
    lang = detect_language(question)
    concepts = glossary.match(question)
    q = PreparedQuery(text=question, lang=lang, concepts=concepts)
    # In a Japanese question a Latin word is a name (PKO, ISMS); in an English question it is
    # just the question's language, found in the KB only in English titles: weigh it down.
    latin_weight = LATIN_WORD_WEIGHT if lang == "ja" else 0.3
    # A situation told before the question (「…を委託しています。…どうすればいい？」): its words
    # count, but less than the question's own
    context, asked = split_context(question)
    q.context, q.asked, q.core = context, asked, without_background(asked)
    q.char_terms = [
        (t, (latin_weight if _LATIN_WORD.match(t) else 1.0) * w)
        for part, w in ((context, CONTEXT_WEIGHT), (asked, 1.0))
        for t in char_tokens(part)
        if t not in EN_STOPWORDS
    ]
    q.word_terms = [
        (t, w) for part, w in ((context, CONTEXT_WEIGHT), (asked, 1.0)) for t in word_tokens(part)
    ]
    vector_parts = [question]

    # Key terms: content words outside glossary matches, plus one key term per concept.
    remainder = prepare_text(question)
    # (the longer match first: メール taken out of メールアドレス would leave アドレス as a word)
    for c in sorted(concepts, key=lambda c: -len(c.matched)):
        remainder = remainder.replace(c.matched, "、")
    # An acronym in an English question (GDPR, SOC) names a thing as well.
    acronyms = {a.lower() for a in _ACRONYM.findall(question)}
    words = list(dict.fromkeys(key_terms(remainder)))
    if lang == "en":
        # … and so does a title-cased name the glossary does not know, two of its words left
        # when the glossary's matches are taken out ("Can I" is stop words; of "Cybersecurity
        # Management Guidelines Ver 3.0" the glossary leaves "ver" alone)
        for run in _TITLED_RUN.findall(question):
            unknown = [t for t in key_terms(run) if t in words]
            if len(unknown) >= 2:
                acronyms.update(unknown)
    for term in words:
        specific = (lang == "ja" and bool(_LATIN_WORD.match(term))) or term in acronyms
        q.key_terms.append(KeyTerm(term, (normalize(term),), specific=specific))
    seen: set[str] = set()
    for c in concepts:
        if c.canonical in seen:
            continue
        seen.add(c.canonical)
        # every form the question names it by ("renews automatically … before renewal": the
        # question proper names it too, though the glossary gives an English form only as met)
        named = dict.fromkeys(d.matched for d in concepts if d.canonical == c.canonical)
        q.key_terms.append(KeyTerm(c.canonical, (*named, *c.alternatives), from_glossary=True))
        # An English word has no Japanese match of its own: its canonical form stands in for it.
        canon_weight = 1.0 if c.matched not in c.alternatives else EXPANSION_WEIGHT
        for i, alt in enumerate(a for a in c.alternatives if a != c.matched):
            if i >= MAX_ALTERNATIVES:
                break
            w = canon_weight if i == 0 else EXPANSION_WEIGHT
            q.char_terms.extend((t, w) for t in char_tokens(alt))
            q.word_terms.extend((t, w) for t in word_tokens(alt))
            if i == 0:
                vector_parts.append(alt)

    if history and len(q.key_terms) <= 2:
        q.follows = True
        previous = history[-1]
        q.char_terms.extend((t, HISTORY_WEIGHT) for t in char_tokens(previous))
        q.word_terms.extend((t, HISTORY_WEIGHT) for t in word_tokens(previous))
        vector_parts.append(previous)
    q.vector_text = " ".join(vector_parts)
    return q


_SENTENCE_END = re.compile(r"(?<=[。！？!?])\s*|(?<=\.)\s+")


# a sentence that asks: a question mark, or a question or request ending (…ますか。…教えてください。)
_ASKS = re.compile(
    r"(?:[？?]|か[。.]?|かね[。.]?|ください[。.]?|下さい[。.]?|教えて[。.]?|知りたい(?:です)?[。.]?)$"
)
_BACKGROUND = re.compile(r"(?:の|ん)(?:です|だ)(?:が|けど|けれど|けれども)[、,]")


def split_context(question: str) -> tuple[str, str]:
    """(the situation told around the question, the question itself): the sentences that ask
    (「…はいくつありますか。主なものも教えてください。」 asks twice), else the last sentence. A
    remark after the question (「…ダメ？正直めんどいんだけど。」) is situation too."""
    parts = [p.strip() for p in _SENTENCE_END.split(question.strip()) if p.strip()]
    if len(parts) < 2:
        return "", question
    asking = {i for i, p in enumerate(parts) if _ASKS.search(p)} or {len(parts) - 1}
    return (
        " ".join(p for i, p in enumerate(parts) if i not in asking),
        " ".join(p for i, p in enumerate(parts) if i in asking),
    )


def without_background(asked: str) -> str:
    """The question without a clause that tells the situation (「経理のデータ入力を外注するの
    ですが、契約書には…？」 asks about the contract). Only for deciding whether the knowledge
    base covers the question: for ranking, such a clause often names the topic
    (「外注先が下請けに出すかもしれないんだけど、契約で何を…」)."""
    m = _BACKGROUND.search(asked)
    return asked[m.end() :].strip() if m and asked[m.end() :].strip() else asked

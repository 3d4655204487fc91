"""Tokenisers for Japanese retrieval.

Two views of the same text, fused at search time (measured on JSQuAD, see README):
- character n-grams: unigrams and bigrams of every Japanese run, whole words for Latin/digit runs;
  robust to unknown words and spelling variants, no dictionary needed;
- SudachiPy morphemes (mode C, normalised forms, content words only): whole words such as
  個人情報保護法, with variants folded (漏洩 -> 漏えい style normalisation by the dictionary).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from bot.knowledge.text import normalize

_WORD = re.compile(r"[a-z0-9]+(?:[.'\-][a-z0-9]+)*")
# Runs of Japanese letters (kana, kanji, iteration marks, prolonged sound mark).
_HIRAGANA = re.compile(r"[\u3041-\u3096]")

# Words that carry no topic in a question.
EN_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "at",
        "by",
        "with",
        "from",
        "as",
        "and",
        "or",
        "but",
        "if",
        "then",
        "than",
        "so",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "done",
        "have",
        "has",
        "had",
        "having",
        "can",
        "could",
        "shall",
        "should",
        "will",
        "would",
        "may",
        "might",
        "must",
        "need",
        "needs",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "it",
        "its",
        "it's",
        "i",
        "me",
        "my",
        "we",
        "our",
        "us",
        "you",
        "your",
        "he",
        "she",
        "they",
        "them",
        "their",
        "his",
        "her",
        "about",
        "into",
        "over",
        "under",
        "up",
        "down",
        "out",
        "any",
        "some",
        "all",
        "each",
        "every",
        "no",
        "not",
        "yes",
        "please",
        "tell",
        "explain",
        "know",
        "want",
        "let",
        "get",
        "got",
        "give",
        "make",
        "made",
        "use",
        "used",
        "using",
        "like",
        "also",
        "just",
        "only",
        "very",
        "much",
        "many",
        "more",
        "most",
        "such",
        "own",
        "same",
        "other",
        "there's",
        "what's",
        "how's",
        "is",
        "it",
        "does",
        "it",
        "happen",
        "happens",
        "case",
        "cases",
        "thing",
        "things",
        "way",
        "ok",
        "okay",
        "hi",
        "hello",
        "thanks",
        "thank",
        "one",
        "two",
        "difference",
        "between",
        "check",
        "before",
        "after",
        "picking",
        "pick",
        "choose",
        "new",
        "old",
        "say",
        "says",
        "send",
        "sent",
        "because",
        "another",
        "company",
        "companies",
        "due",
        "rank",
        "ranked",
        "major",
        "covers",
        "cover",
        "valid",
        "maximum",
        "minimum",
        "affected",
        "people",
        "person",
        "make",
        "makes",
        "required",
        "require",
        "requires",
        "allowed",
        "allow",
        "allows",
        "without",
        "within",
        "long",
        "many",
        "much",
        "time",
        "times",
        "day",
        "days",
        "first",
        "last",
        "next",
        "still",
        "even",
        "really",
        "actually",
        "kind",
        "kinds",
        "type",
        "types",
        "good",
        "bad",
        "right",
        "wrong",
        "sure",
        "about",
        "around",
        "again",
        "already",
        "always",
        "never",
        "often",
        "someone",
        "something",
        "anything",
        "everything",
        "need",
        "needed",
        "needs",
        "okay",
        "fine",
        "happen",
        "happened",
        "happening",
    ]
)
EN_STOPWORDS |= frozenset(["end", "ends", "start", "begin", "beginning"])

JA_STOP_CONTENT = frozenset(
    [
        "為る",
        "有る",
        "居る",
        "成る",
        "出来る",
        "言う",
        "思う",
        "良い",
        "事",
        "物",
        "為",
        "時",
        "下さる",
        "貰う",
        "呉れる",
        "頂く",
        "致す",
        "遣る",
        "在る",
        "何",
        "なに",
        "何か",
        "どう",
        "どの",
        "どれ",
        "どんな",
        "いつ",
        "誰",
        "だれ",
        "どこ",
        "なぜ",
        "教える",
        "知る",
        "分かる",
        "わかる",
        "思う",
        "言う",
        "する",
        "ある",
        "いる",
        "なる",
        "できる",
        "出来る",
        "良い",
        "よい",
        "いい",
        "事",
        "こと",
        "もの",
        "物",
        "為",
        "ため",
        "時",
        "とき",
        "場合",
        "際",
        "方",
        "ほう",
        "点",
        "等",
        "など",
        "件",
        "必要",
        "第",
        "条",
        "項",
        "号",
        "くださる",
        "下さる",
        "願う",
        "感じ",
        "何故",
        "っぽい",
        "みたい",
        "よう",
        "様",
        "的",
        "ん",
        "の",
        "か",
        "ね",
        "よ",
    ]
)
# Conversational and generic nouns: in a question they frame it, they do not name its topic.
JA_STOP_CONTENT |= frozenset(
    [
        "駄目",
        "大丈夫",
        "本当",
        "普通",
        "結構",
        "一般",
        "一般的",
        "具体的",
        "基本的",
        "実際",
        "自分",
        "自身",
        "全部",
        "全体",
        "感じ",
        "今回",
        "今度",
        "最近",
        "来月",
        "今月",
        "先月",
        "来年",
        "今年",
        "去年",
        "毎回",
        "毎月",
        "以上",
        "以下",
        "可能",
        "問題",
        "関係",
        "内容",
        "状況",
    ]
)


def char_tokens(text: str) -> list[str]:
    """Character unigrams and bigrams of every run between punctuation and spaces, plus whole
    Latin/digit words. Bigrams span script changes (3年, 第26条), which carry meaning in
    Japanese. Measured on JSQuAD: keeping hiragana unigrams beats dropping them (R@1 +0.4 pt)."""
    norm = normalize(text)
    out: list[str] = [m.group(0) for m in _WORD.finditer(norm)]
    # Latin letters are matched as whole words above; their letter n-grams would only let any
    # English text match any other.
    for seg in _SEPARATORS.split(_LATIN.sub(" ", norm)):
        if not seg:
            continue
        out.extend(seg)
        out.extend(seg[i : i + 2] for i in range(len(seg) - 1))
    return out


_LATIN = re.compile(r"[a-z]+")
_SEPARATORS = re.compile(r"[\s、。，．,.!?！？「」『』（）()\[\]【】〔〕・:：;；\"'`〜~\-/|*#>]+")


class _Sudachi:
    """Lazily loaded SudachiPy tokenizer (the dictionary is memory-mapped once per process)."""

    _lock = threading.Lock()
    _tokenizer: Any = None
    _mode: Any = None

    @classmethod
    def get(cls) -> tuple[Any, Any]:
        if cls._tokenizer is None:
            with cls._lock:
                if cls._tokenizer is None:
                    from sudachipy import Dictionary, SplitMode

                    cls._mode = SplitMode.C
                    cls._tokenizer = Dictionary(dict="core").tokenizer(mode=cls._mode)
        return cls._tokenizer, cls._mode


_SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
_MAX_SUDACHI_CHARS = 40_000  # SudachiPy refuses inputs over ~49,149 bytes; we chunk below that


@lru_cache(maxsize=4096)
def _morphemes_cached(norm: str) -> tuple[tuple[str, str, str], ...]:
    tok, _ = _Sudachi.get()
    out: list[tuple[str, str, str]] = []
    for piece in _pieces(norm):
        for m in tok.tokenize(piece):
            pos = m.part_of_speech()
            if pos[0] in _SKIP_POS:
                continue
            out.append((m.normalized_form(), pos[0], pos[2]))
    return tuple(out)


def _pieces(text: str) -> list[str]:
    # Sudachi limits input size in bytes; split long text at line breaks, then hard-cut.
    if len(text.encode("utf-8")) < 40_000:
        return [text]
    pieces: list[str] = []
    for line in text.split("\n"):
        while len(line.encode("utf-8")) >= 40_000:
            pieces.append(line[:10_000])
            line = line[10_000:]
        pieces.append(line)
    return pieces


def word_tokens(text: str) -> list[str]:
    """Content-word morphemes (normalised forms) for the word-level index.

    Latin-script words bypass Sudachi, whose normalised forms would turn "what" into ホワット."""
    norm = normalize(text)[:_MAX_SUDACHI_CHARS]
    words = [m.group(0) for m in _WORD.finditer(norm) if not m.group(0).isdigit()]
    ja = _WORD.sub(lambda m: m.group(0) if m.group(0).isdigit() else " ", norm)
    morphemes = [form for form, _pos, _sub in _morphemes_cached(ja) if form.strip()]
    return morphemes + words


def key_terms(text: str) -> list[str]:
    """The terms of a question that carry its topic: nouns (not pronouns, not adverb-like nouns
    such as 毎回, not 何-words) and Latin-script words that are not stop words.

    Verbs, adjectives and adverbs are left out: in questions they are mostly conversational
    (〜しなきゃいけない, 気をつける, 大丈夫) and would make a covered question look uncovered."""
    norm = normalize(text)[:_MAX_SUDACHI_CHARS]
    out: list[str] = [
        w for m in _WORD.finditer(norm) if (w := m.group(0)) not in EN_STOPWORDS and len(w) > 1
    ]
    ja = _WORD.sub(" ", norm)
    for form, pos, sub in _morphemes_cached(ja):
        if pos != "名詞" or sub in _WEAK_NOUNS:
            continue
        if form in JA_STOP_CONTENT or form.startswith("何") or len(form) < 2:
            continue
        if not any(ch.isalnum() for ch in form):
            continue
        out.append(form)
    return out


_WEAK_NOUNS = frozenset({"副詞可能", "助数詞可能", "数詞", "形状詞可能"})

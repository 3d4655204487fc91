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

from bot.knowledge.stopwords import EN_STOPWORDS, JA_STOP_CONTENT
from bot.knowledge.text import normalize, stem_english

# questions reach key-term extraction with English inflections folded (does -> doe, getting ->
# gett): the stop words in both forms
_EN_STOP = EN_STOPWORDS | {stem_english(w) for w in EN_STOPWORDS}

_WORD = re.compile(r"[a-z0-9]+(?:[.'\-][a-z0-9]+)*")
# Runs of Japanese letters (kana, kanji, iteration marks, prolonged sound mark).
_HIRAGANA = re.compile(r"[\u3041-\u3096]")


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
    """SudachiPy, loaded lazily: the dictionary once per process (memory-mapped), a tokenizer per
    thread (a SudachiPy tokenizer must not be used by two threads at once)."""

    _lock = threading.Lock()
    _dictionary: Any = None
    _mode: Any = None
    _local = threading.local()

    @classmethod
    def get(cls) -> tuple[Any, Any]:
        tok = getattr(cls._local, "tokenizer", None)
        if tok is None:
            with cls._lock:
                if cls._dictionary is None:
                    from sudachipy import Dictionary, SplitMode

                    cls._mode = SplitMode.C
                    cls._dictionary = Dictionary(dict="core")
            tok = cls._local.tokenizer = cls._dictionary.tokenizer(mode=cls._mode)
        return tok, cls._mode


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
        w for m in _WORD.finditer(norm) if (w := m.group(0)) not in _EN_STOP and len(w) > 1
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

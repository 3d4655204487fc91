"""Japanese-aware text primitives: normalisation, sentence boundaries, script detection."""

from __future__ import annotations

import re
import unicodedata

# Characters that open/close a span inside which a sentence never ends (「…。」と述べた。).
_OPEN = "「『（(【〔［[“"
_CLOSE = "」』）)】〕］]”"
_TERMINALS = "。！？!?"
# control and invisible formatting characters, and lone surrogates (undecodable bytes read with
# surrogateescape, or "\ud800" in a JSON string), which no encoder accepts
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
    "\ud800-\udfff]"
)
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3})")
_SPACES = re.compile(r"[ \t\u3000]+")


def strip_control(text: str) -> str:
    """Remove control and invisible formatting characters and lone surrogates (keeps newlines
    and tabs)."""
    return _CONTROL.sub("", text)


def normalize(text: str) -> str:
    """Normalise for matching: NFKC (full-width ASCII, half-width kana), lower case,
    thousands separators removed from numbers (1,000 == 1000), spaces folded."""
    text = unicodedata.normalize("NFKC", strip_control(text)).lower()
    text = _DIGIT_COMMA.sub("", text)
    return _SPACES.sub(" ", text)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at 。！？ (and ! ? / English full stops followed by space),
    never inside brackets or quotes, and at line breaks. Returns stripped, non-empty sentences."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        depth = 0
        start = 0
        i = 0
        n = len(line)
        while i < n:
            ch = line[i]
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth = max(0, depth - 1)
            elif depth == 0 and (
                ch in _TERMINALS
                or (ch == "." and i + 1 < n and line[i + 1] == " " and _is_ascii_word_end(line, i))
            ):
                j = i + 1
                # keep trailing closers and repeated terminals with the sentence ("！？", "。」")
                while j < n and (line[j] in _TERMINALS or line[j] in _CLOSE):
                    j += 1
                piece = line[start:j].strip()
                if piece:
                    sentences.append(piece)
                start = j
                i = j
                continue
            i += 1
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def _is_ascii_word_end(line: str, i: int) -> bool:
    # "e.g. " and "No. 5" are not sentence ends; a lower-case word of 3+ letters before "." is.
    j = i
    while j > 0 and line[j - 1].isascii() and line[j - 1].isalpha():
        j -= 1
    word = line[j:i]
    return len(word) >= 3 or (
        word.isalpha() and word.islower() and len(word) >= 2 and word not in {"eg", "ie", "no"}
    )


def japanese_ratio(text: str) -> float:
    """Share of letters that are kana or kanji."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    jp = sum(1 for c in letters if is_japanese_char(c))
    return jp / len(letters)


def is_japanese_char(c: str) -> bool:
    code = ord(c)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x4E00 <= code <= 0x9FFF  # CJK unified
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x31F0 <= code <= 0x31FF
        or code == 0x3005  # 々
    )


def has_japanese(text: str) -> bool:
    return any(is_japanese_char(c) for c in text)


def detect_language(text: str) -> str:
    """'ja' when the text has any meaningful amount of Japanese, 'en' when it is Latin script,
    'other' for text in neither (Korean, Cyrillic, …)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "ja"
    jp = sum(1 for c in letters if is_japanese_char(c))
    if jp / len(letters) >= 0.2:
        return "ja"
    latin = sum(1 for c in letters if c.isascii())
    if latin / len(letters) >= 0.6:
        return "en"
    return "other"


_LATIN_RUN = re.compile(r"[a-z]{4,}")


# words whose ending is no inflection (accounting is not account, during not dur); a plural of one
# (meetings, settings) is its singular
_NOT_INFLECTED = frozenset(
    [
        "accounting",
        "marketing",
        "building",
        "meeting",
        "setting",
        "during",
        "string",
        "spring",
        "morning",
        "evening",
        "housing",
        "booking",
        "clothing",
        "ceiling",
        "wedding",
        "something",
        "anything",
        "everything",
        "nothing",
        "speed",
        "feed",
        "seed",
        "indeed",
        "exceed",
        "proceed",
        "succeed",
        "embed",
    ]
)


def _stem(word: str) -> str:
    if word in _NOT_INFLECTED:
        return word
    if word.endswith("s") and word[:-1] in _NOT_INFLECTED:
        return word[:-1]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ing") and len(word) > 5:
        return word[:-3]
    if word.endswith("ed") and len(word) > 4:
        return word[:-2]
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def stem_english(norm: str) -> str:
    """Fold English inflections in normalised text (destroying, destroyed -> destroy;
    breaches -> breach), so that a glossary entry matches every form of its word. Applied the
    same way to glossary terms and questions, so crude stems still agree."""
    return _LATIN_RUN.sub(lambda m: _stem(m.group(0)), norm)

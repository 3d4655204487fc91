"""Personal data (PII) in text bound for the LLM: find it, mask it, put it back.

Itaku sends the user's question and retrieved knowledge-base text to an external,
OpenAI-compatible endpoint; personal data must not travel with them. `find_pii` detects

- ``email``: e-mail addresses;
- ``phone``: Japanese phone numbers (03-1234-5678, 090-1234-5678, 0120-123-456, (03)1234-5678,
  +81-90-1234-5678, 09012345678), checked against the numbering plan (10 digits; 11 only for
  020/050/060/070/080/090/0800);
- ``my_number``: 個人番号 (12 digits, optionally 4-4-4) whose check digit is valid;
- ``card``: payment card numbers (13-19 digits, spaces or hyphens allowed) with a card-network
  prefix (2221-2720, 3, 4, 5, 6) that pass the Luhn check;
- ``bank_account``: 7-digit account numbers shortly after 口座/口座番号/普通/当座 (branch and
  bank codes are left alone);
- ``address``: postcodes after 〒/郵便番号, and street addresses: a prefecture, a municipality
  (市/区/町/村/郡) and a block number (丁目/番地/番/号 or 1-2-3), with a postcode in front if any;
- ``name``: person names tagged 名詞,固有名詞,人名 by SudachiPy (a 姓 and the 名 after it make one
  finding), unknown words directly before さん/様/氏/殿, and "Mr./Ms./Dr. Name". An honorific
  is not part of the finding, so masked text reads "[NAME_1]さん".

Matching runs on NFKC-normalised text (full-width digits and ＠ count), but spans refer to the
original text. Precision matters as much as recall: law references (第26条, 3-4-4), dates,
amounts (2,312件) and standard numbers (ISO/IEC 27001:2022) must survive masking, which is why
numbers are validated (check digits, numbering plan) rather than matched by shape alone.

`Masker` replaces findings by placeholders ([EMAIL_1], [NAME_2], ...) that are stable within one
conversation and can be restored in the model's answer; `guard` applies a `Policy`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from bot.knowledge.tokenize import _Sudachi

PiiKind = Literal["email", "phone", "my_number", "card", "bank_account", "address", "name"]

# Kinds in order of precedence: where two findings overlap, the earlier kind wins.
KINDS: tuple[PiiKind, ...] = (
    "email",
    "card",
    "my_number",
    "phone",
    "bank_account",
    "address",
    "name",
)
_PRIORITY = {kind: i for i, kind in enumerate(KINDS)}
# Kinds as users read them (describe()).
_DISPLAY_ORDER: tuple[PiiKind, ...] = (
    "name",
    "email",
    "phone",
    "address",
    "my_number",
    "card",
    "bank_account",
)
_TAGS: dict[str, str] = {
    "email": "EMAIL",
    "phone": "PHONE",
    "my_number": "MYNUMBER",
    "card": "CARD",
    "bank_account": "ACCOUNT",
    "address": "ADDRESS",
    "name": "NAME",
}
_LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "email": "メールアドレス",
        "phone": "電話番号",
        "my_number": "マイナンバー（個人番号）",
        "card": "クレジットカード番号",
        "bank_account": "口座番号",
        "address": "住所",
        "name": "氏名",
    },
    "en": {
        "email": "email address",
        "phone": "phone number",
        "my_number": "My Number (individual number)",
        "card": "payment card number",
        "bank_account": "bank account number",
        "address": "postal address",
        "name": "person name",
    },
}
_JOINERS = {"ja": "、", "en": ", "}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and its span in the original text."""

    kind: PiiKind
    start: int
    end: int
    text: str


# --- normalisation with a map back to the original text ------------------------------------

_VOICING_MARKS = frozenset("\uff9e\uff9f\u3099\u309a")


class _Norm(NamedTuple):
    text: str
    # Original offsets for each normalised character (start of its source, end of its source);
    # None when normalised and original offsets coincide.
    starts: list[int] | None
    ends: list[int] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


# Characters that NFKC leaves as they are and that never combine with a following mark: most
# Japanese text is made of them, so only the runs in between need normalising one by one.
_STABLE_RUN = re.compile(
    "[\t\n\r -~\u3001\u3002\u3005\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u4e00-\u9fff]+"
)


def _normalize(text: str) -> _Norm:
    if unicodedata.is_normalized("NFKC", text):
        return _Norm(text, None, None)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    same_length = True
    pos, n = 0, len(text)
    while pos < n:
        stable = _STABLE_RUN.match(text, pos)
        if stable is not None:
            end = stable.end()
            # a stable character followed by a voicing mark (か + ゙) normalises with it
            if end < n and _combines(text[end]):
                end -= 1
            if end > pos:
                out.append(text[pos:end])
                span = range(pos, end)
                starts.extend(span)
                ends.extend(range(pos + 1, end + 1))
                pos = end
                continue
        # one base character and its combining marks (half-width ｶﾞ) normalise together
        j = pos + 1
        while j < n and _combines(text[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text[pos:j])
        if len(piece) != j - pos:
            same_length = False
        out.append(piece)
        starts.extend([pos] * len(piece))
        ends.extend([j] * len(piece))
        pos = j
    norm = "".join(out)
    if same_length:
        return _Norm(norm, None, None)
    return _Norm(norm, starts, ends)


def _combines(ch: str) -> bool:
    return ch in _VOICING_MARKS or unicodedata.combining(ch) != 0


# --- patterns (matched on normalised text) ---------------------------------------------------

# Hyphen-like characters people type between digits: -, ‐‑‒–—―, −, and the long vowel mark ー.
_HYC = "\\-\u2010-\u2015\u2212\u30fc"
_HY = f"[{_HYC}]"
_SEP = f"[ {_HYC}]"
# No digit (or digit and hyphen) just before / after: a match is a whole number. Long numbers
# must not be glued to Latin letters either (hexadecimal hashes, IDs such as a0123...). Numbers
# grouped by spaces must also not continue with another space-separated group (the last 12
# digits of 1234 5678 9012 3456 are not a My Number).
_DIGITS_START = rf"(?<![0-9])(?<![0-9]{_HY})"
_NUM_START = rf"(?<![0-9A-Za-z_])(?<![0-9]{_HY})"
_NUM_END = rf"(?![0-9])(?!{_HY}[0-9])"
_NOT_AFTER_GROUP = "(?<![0-9] )"
_NOT_BEFORE_GROUP = "(?! [0-9])"
_LONG_NUM_END = rf"(?![0-9A-Za-z_])(?!{_HY}[0-9])"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*+@"
    r"[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++"
)

_PHONE = re.compile(
    # not inside a longer number or a Latin word (a0312345678...), but after TEL/FAX
    r"(?:(?<![0-9A-Za-z_+@])|(?<=TEL)|(?<=Tel)|(?<=tel)|(?<=FAX)|(?<=Fax)|(?<=fax))"
    rf"(?<![0-9]{_HY})"
    r"(?:"
    rf"0[0-9]{{1,4}}(?P<s>{_SEP})[0-9]{{1,4}}(?P=s)[0-9]{{3,4}}"
    rf"|\(0[0-9]{{1,4}}\) ?[0-9]{{1,4}}{_SEP}[0-9]{{3,4}}"
    r"|0[0-9]{9,10}"
    rf"|\+81{_SEP}?(?:\(0\) ?)?[0-9]{{1,4}}(?P<t>{_SEP})[0-9]{{1,4}}(?P=t)[0-9]{{3,4}}"
    r"|\+81 ?[0-9]{9,10}"
    r")"
    rf"{_NUM_END}"
)

_MY_NUMBER = re.compile(
    rf"{_NUM_START}(?:[0-9]{{12}}"
    rf"|{_NOT_AFTER_GROUP}[0-9]{{4}}(?P<s>{_SEP})[0-9]{{4}}(?P=s)[0-9]{{4}}{_NOT_BEFORE_GROUP}"
    rf"){_LONG_NUM_END}"
)

_CARD = re.compile(
    rf"{_NUM_START}(?:[0-9]{{13,19}}|{_NOT_AFTER_GROUP}(?:"
    rf"[0-9]{{4}}(?P<s>{_SEP})[0-9]{{4}}(?P=s)[0-9]{{4}}(?P=s)[0-9]{{1,4}}(?:(?P=s)[0-9]{{1,3}})?"
    rf"|[0-9]{{4}}(?P<a>{_SEP})[0-9]{{6}}(?P=a)[0-9]{{4,5}}"
    rf"){_NOT_BEFORE_GROUP}){_LONG_NUM_END}"
)

# A 7-digit number within the same sentence shortly after an account keyword; not an amount or
# a count (1234567円, 1234567件).
_BANK_ACCOUNT = re.compile(
    r"(?:口座番号|口座|普通預金|当座預金|貯蓄預金|普通|当座)[^。\n]{0,20}?"
    rf"{_DIGITS_START}(?P<acct>[0-9]{{7}}){_NUM_END}"
    r"(?![件人円名個社年月日%万億千百回台枚本頁条項号])"
)

_PREFECTURES = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都"
    "|神奈川県|新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府"
    "|大阪府|兵庫県|奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県"
    "|福岡県|佐賀県|長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶケ"
_MUNICIPALITY = rf"(?:[{_KANJI}]{{1,7}}|[ぁ-ゖ]{{2,7}}|[ァ-ヺー]{{2,8}})(?:市|区|町|村|郡)"
# Town and district names: kanji and katakana, with の/が only between them (丸の内, 霞が関),
# Kyoto's 上る/下る/入る, and hiragana names of three or more letters that don't start like a
# particle (みなとみらい, ひばりが丘; not では/には). Never 第 (第3号 is a law reference).
_LOCALITY = (
    rf"(?:(?!第)[{_KANJI}ァ-ヺー]"
    rf"|[のがノ](?=[{_KANJI}ァ-ヺ])"
    rf"|(?<=[上下入])る(?=[{_KANJI}])"
    rf"|(?<![ぁ-ゖ])(?![はがのをにでともやへかよ])[ぁ-ゖ]{{3,8}}(?=[{_KANJI}ァ-ヺ0-9])"
    r"){0,15}"
)
_BLOCK_NUM = r"(?:[0-9]{1,5}|[一二三四五六七八九十〇]{1,4})"
_BLOCK_UNIT = rf"(?:丁目|番地の?|番(?![目号手組])|号(?!室|機|車|館)|{_HY})"
_BLOCK = rf"{_BLOCK_NUM}{_BLOCK_UNIT}(?:{_BLOCK_NUM}(?:{_BLOCK_UNIT})?)*"
_ADDRESS = re.compile(
    # a postcode in front: 123-4567, or seven digits right after 〒
    rf"(?:(?:(?<![0-9])[0-9]{{3}}{_HY}[0-9]{{4}}|(?<=〒)[0-9]{{7}}) ?)?"
    rf"(?:{_PREFECTURES}){_MUNICIPALITY}(?:{_MUNICIPALITY})?{_LOCALITY}"
    # Sapporo-style blocks: 北1条西2丁目
    rf"(?:[0-9]{{1,2}}条[東西南北]?)?{_BLOCK}"
)
_POSTCODE = re.compile(rf"(?:〒|郵便番号) ?:? ?(?P<zip>[0-9]{{3}}{_HY}?[0-9]{{4}})(?![0-9])")

# Latin names only in the unambiguous "Mr. Tanaka" form; bare "Firstname Lastname" is left
# alone (product names, English headings).
_EN_TITLED_NAME = re.compile(
    r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Dr)\.? (?P<name>[A-Z][a-z]+(?: [A-Z][a-z]+)?)"
)


# --- validators ------------------------------------------------------------------------------


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def _valid_email(match: str) -> bool:
    domain = match.rsplit("@", 1)[1]
    labels = domain.split(".")
    if any(not label or label[0] == "-" or label[-1] == "-" for label in labels):
        return False
    tld = labels[-1]
    return len(tld) >= 2 and tld.isascii() and tld.isalpha()


def _national_phone(match: str) -> str:
    digits = _digits(match)
    if match.startswith("+81"):
        rest = digits[2:]
        return rest if rest.startswith("0") else "0" + rest
    return digits


def _valid_phone(match: str) -> bool:
    """Japanese numbering plan: 0 + 9 digits, or 0 + 10 digits for 020/050/060/070/080/090 (and
    0800); never 00 (the international call prefix)."""
    national = _national_phone(match)
    if len(national) < 10 or national[1] == "0":
        return False
    mobile_like = national[2] == "0" and national[1] in "256789"
    if len(national) == 10:
        return not mobile_like
    return len(national) == 11 and mobile_like


def my_number_check_digit(first_eleven: str) -> int:
    """Check digit of a 個人番号 (the 12th digit) from its first 11 digits.

    P_n is the n-th digit counted from the right of the 11, Q_n its weight: n+1 for n <= 6,
    n-5 for n >= 7. With r = sum(P_n * Q_n) mod 11, the check digit is 0 if r <= 1, else 11 - r."""
    total = 0
    for n, ch in enumerate(reversed(first_eleven), start=1):
        total += int(ch) * (n + 1 if n <= 6 else n - 5)
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def _valid_my_number(match: str) -> bool:
    digits = _digits(match)
    if len(digits) != 12 or len(set(digits)) == 1:
        return False
    return my_number_check_digit(digits[:11]) == int(digits[11])


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _valid_card(match: str) -> bool:
    digits = _digits(match)
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    # Issuer prefixes in use: 2221-2720 (Mastercard), 3 (JCB, Amex, Diners), 4 (Visa),
    # 5 (Mastercard), 6 (Discover, UnionPay). Other 13-19 digit numbers (法人番号 has 13)
    # are not cards.
    network = digits[0] in "3456" or 2221 <= int(digits[:4]) <= 2720
    return network and _luhn(digits)


# --- person names (SudachiPy) ---------------------------------------------------------------

_HONORIFICS = frozenset({"さん", "様", "さま", "氏", "殿"})
# Common nouns Sudachi tags 人名 in some contexts (ベンダーさん, ベンダー各社).
_NOT_NAMES = frozenset({"ベンダー", "ランサム"})
# counts and ordinals that the dictionary also knows as given names (数人, 幾人, 四つ目)
_HEADCOUNT = re.compile(r"[数何幾十百千万一二三四五六七八九]+(人|つ目|番目|回目|つ|名|件)")
# A name inside a company name is not personal data: 株式会社田中, 山本建設.
_ORG_BEFORE = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "(株)", "(有)", "法人")
_ORG_AFTER = frozenset(
    {
        "株式会社",
        "有限会社",
        "合同会社",
        "商事",
        "商店",
        "商会",
        "工業",
        "産業",
        "建設",
        "工務店",
        "製作所",
        "興業",
        "物産",
        "電機",
        "電気",
        "不動産",
        "法律事務所",
        "会計事務所",
        "税理士事務所",
        "事務所",
        "病院",
        "医院",
        "歯科",
        "クリニック",
        "銀行",
        "信用金庫",
        "証券",
        "保険",
        "運輸",
        "食品",
        "製薬",
        "化学",
        "精機",
        "技研",
        "研究所",
        "学園",
        "ホールディングス",
        "グループ",
        "組",
        "社",
    }
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々]")
_JA_LETTERS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶぁ-ゖァ-ヺー]+")
_KATAKANA = re.compile(r"[ァ-ヺー・]+")
_SUDACHI_MAX_CHARS = 12_000  # Sudachi refuses inputs over ~49 KB; 12,000 chars stay below that
# Sudachi part-of-speech ids -> tags, and -> 1 (人名), 2 (接尾辞) or 0 (anything else)
_POS: dict[int, tuple[str, ...]] = {}
_POS_KIND: dict[int, int] = {}


class _Tok(NamedTuple):
    start: int
    end: int
    surface: str
    pos: tuple[str, ...]
    oov: bool


def _pieces(text: str) -> list[tuple[int, str]]:
    """Split text for Sudachi at line breaks (hard cut for very long lines), with offsets."""
    if len(text) <= _SUDACHI_MAX_CHARS:
        return [(0, text)]
    pieces: list[tuple[int, str]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        for cut in range(0, len(line), _SUDACHI_MAX_CHARS):
            pieces.append((offset + cut, line[cut : cut + _SUDACHI_MAX_CHARS]))
        offset += len(line)
    return pieces


class _Morphemes:
    """Sudachi's morphemes of a text, with a `_Tok` built only for the few that are looked at
    (building one for every morpheme would cost more than the tokenisation itself).
    `persons` and `suffixes` index the morphemes tagged 人名 and 接尾辞."""

    def __init__(self, text: str) -> None:
        tokenizer, _mode = _Sudachi.get()
        self._morphemes: list[Any] = []
        self._offsets: list[int] = []
        self._toks: dict[int, _Tok] = {}
        self.persons: list[int] = []
        self.suffixes: list[int] = []
        for offset, piece in _pieces(text):
            for m in tokenizer.tokenize(piece):
                pos_id = m.part_of_speech_id()
                kind = _POS_KIND.get(pos_id)
                if kind is None:
                    pos = _POS[pos_id] = tuple(m.part_of_speech())
                    kind = _POS_KIND[pos_id] = (
                        1 if pos[2] == "人名" else 2 if pos[0] == "接尾辞" else 0
                    )
                if kind == 1:
                    self.persons.append(len(self._morphemes))
                elif kind == 2:
                    self.suffixes.append(len(self._morphemes))
                self._morphemes.append(m)
                self._offsets.append(offset)

    def __len__(self) -> int:
        return len(self._morphemes)

    def __getitem__(self, i: int) -> _Tok:
        tok = self._toks.get(i)
        if tok is None:
            m = self._morphemes[i]
            offset = self._offsets[i]
            tok = self._toks[i] = _Tok(
                offset + m.begin(),
                offset + m.end(),
                m.surface(),
                _POS[m.part_of_speech_id()],
                m.is_oov(),
            )
        return tok


def _is_person(tok: _Tok) -> bool:
    return (
        tok.pos[1] == "固有名詞"
        and tok.pos[2] == "人名"
        and _JA_LETTERS.fullmatch(tok.surface) is not None
    )


def _is_unknown_word(tok: _Tok, max_len: int = 4) -> bool:
    """An out-of-vocabulary word in Japanese letters: a name the dictionary doesn't know (髙橋)."""
    if not tok.oov or tok.pos[0] != "名詞" or _JA_LETTERS.fullmatch(tok.surface) is None:
        return False
    limit = 10 if _KATAKANA.fullmatch(tok.surface) else max_len
    return len(tok.surface) <= limit


def _is_honorific(toks: _Morphemes, i: int, after: int) -> bool:
    return (
        i < len(toks)
        and toks[i].start == after
        and toks[i].surface in _HONORIFICS
        and toks[i].pos[0] == "接尾辞"
    )


def _joinable(left: _Tok, sep: _Tok, right: _Tok) -> bool:
    """山田 太郎 (a 姓, a space, a 名) and ローズ・マリー (katakana names joined by ・)."""
    if left.end != sep.start or sep.end != right.start:
        return False
    if sep.surface in ("・", "･"):
        return bool(_KATAKANA.fullmatch(left.surface) and _KATAKANA.fullmatch(right.surface))
    if sep.surface.strip() == "" and len(sep.surface) <= 2:
        return right.pos[3] == "名" or bool(
            _KATAKANA.fullmatch(left.surface) and _KATAKANA.fullmatch(right.surface)
        )
    return False


@lru_cache(maxsize=4096)
def _name_on_its_own(surface: str) -> bool:
    """Whether Sudachi reads `surface` as a person name out of context too. In lists such as
    "ひな型, 雛形, 雛型" the lattice can pick a rare 人名 reading of a common noun; a name that
    stands alone in a sentence must also be a name by itself."""
    toks = _Morphemes(surface)
    return len(toks) == 1 and _is_person(toks[0])


def _find_names(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = [m.span("name") for m in _EN_TITLED_NAME.finditer(text)]
    if _JA_LETTERS.search(text) is None:
        return spans
    toks = _Morphemes(text)
    n = len(toks)
    covered_until = -1
    done = -1  # the last morpheme already part of a run
    for i in toks.persons:
        if i <= done:
            continue
        tok = toks[i]
        if not _is_person(tok):
            continue
        first, last, persons = i, i, 1
        while True:
            k = last + 1
            if k < n and _is_person(toks[k]) and toks[k].start == toks[last].end:
                last, persons = k, persons + 1
            elif (
                k + 1 < n
                and _is_person(toks[k + 1])
                and _joinable(toks[last], toks[k], toks[k + 1])
            ):
                last, persons = k + 1, persons + 1
            else:
                break
        # an unknown surname before a known given name (髙橋太郎)
        extended = False
        if (
            tok.pos[3] == "名"
            and first > 0
            and _is_unknown_word(toks[first - 1], max_len=3)
            and toks[first - 1].end == tok.start
            and toks[first - 1].start >= covered_until
        ):
            first, extended = first - 1, True
        # an unknown given name after a known surname, before an honorific (田中髙志さん)
        if (
            toks[last].pos[3] == "姓"
            and last + 2 < n
            and _is_unknown_word(toks[last + 1], max_len=3)
            and toks[last + 1].start == toks[last].end
            and _is_honorific(toks, last + 2, toks[last + 1].end)
        ):
            last, extended = last + 1, True
        start, end = toks[first].start, toks[last].end
        honorific = _is_honorific(toks, last + 1, end)
        accept = True
        if persons == 1 and not extended:
            surface = tok.surface
            if surface in _NOT_NAMES or _HEADCOUNT.fullmatch(surface):
                accept = False
            elif not honorific:
                # alone, only a name of two or more characters with a kanji in it: single
                # characters (泉, 進), kana words (たつと) and katakana (ベンダー各社) are too
                # often ordinary words
                accept = (
                    len(surface) >= 2
                    and _CJK.search(surface) is not None
                    and _name_on_its_own(surface)
                )
        if accept and (
            text.endswith(_ORG_BEFORE, 0, start)
            or text.startswith(("(株)", "(有)"), end)
            or (
                last + 1 < n
                and toks[last + 1].start == end
                and toks[last + 1].surface in _ORG_AFTER
            )
        ):
            accept = False
        if accept:
            spans.append((start, end))
            covered_until = end
        done = last
    # unknown words directly before an honorific (a name the dictionary doesn't know)
    for h in toks.suffixes:
        if h == 0:
            continue
        prev = toks[h - 1]
        if (
            _is_unknown_word(prev)
            and _is_honorific(toks, h, prev.end)
            and not any(s <= prev.start < e for s, e in spans)
        ):
            spans.append((prev.start, prev.end))
    return spans


# --- detection -------------------------------------------------------------------------------


_ANY_DIGIT = re.compile("[0-9]")


def _candidates(norm: str, names: bool = True) -> list[tuple[PiiKind, int, int]]:
    found: list[tuple[PiiKind, int, int]] = []
    if "@" in norm:
        found.extend(("email", *m.span()) for m in _EMAIL.finditer(norm) if _valid_email(m[0]))
    if _ANY_DIGIT.search(norm):
        found.extend(("card", *m.span()) for m in _CARD.finditer(norm) if _valid_card(m[0]))
        found.extend(
            ("my_number", *m.span()) for m in _MY_NUMBER.finditer(norm) if _valid_my_number(m[0])
        )
        found.extend(("phone", *m.span()) for m in _PHONE.finditer(norm) if _valid_phone(m[0]))
        found.extend(("bank_account", *m.span("acct")) for m in _BANK_ACCOUNT.finditer(norm))
        for m in _ADDRESS.finditer(norm):
            start, end = m.span()
            while end > start and norm[end - 1] in "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212ー":
                end -= 1
            found.append(("address", start, end))
        found.extend(("address", *m.span("zip")) for m in _POSTCODE.finditer(norm))
    if names:
        found.extend(("name", start, end) for start, end in _find_names(norm))
    return found


def find_pii(text: str, *, names: bool = True) -> list[Finding]:
    """Personal data in `text`: non-overlapping findings sorted by start (on overlap, the kind
    earlier in KINDS wins, then the longer match). `names=False` skips person names (the one
    kind that needs the morphological analyser, and the noisiest in everyday chat)."""
    if not text:
        return []
    norm = _normalize(text)
    chosen: list[tuple[PiiKind, int, int]] = []
    for kind, start, end in sorted(
        _candidates(norm.text, names), key=lambda c: (_PRIORITY[c[0]], c[1] - c[2], c[1])
    ):
        if end <= start:
            continue
        if all(end <= s or start >= e for _k, s, e in chosen):
            chosen.append((kind, start, end))
    findings: list[Finding] = []
    for kind, start, end in sorted(chosen, key=lambda c: c[1]):
        o_start, o_end = norm.span(start, end)
        findings.append(Finding(kind, o_start, o_end, text[o_start:o_end]))
    return findings


# --- masking ---------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"[\[［](" + "|".join(_TAGS.values()) + r")_([0-9]+)[\]］]")


def _canonical(kind: str, value: str) -> str:
    """The identity of a value: the same phone number typed twice (full-width, +81) is one."""
    if kind == "phone":
        return _national_phone(unicodedata.normalize("NFKC", value))
    if kind in ("my_number", "card", "bank_account"):
        return _digits(unicodedata.normalize("NFKC", value))
    norm = unicodedata.normalize("NFKC", value)
    norm = "".join(norm.split())
    return norm.lower() if kind == "email" else norm


@dataclass
class Masker:
    """Masks personal data with placeholders and restores it; one per request or conversation,
    so that the same value gets the same placeholder in the question, the context and the
    answer. Not shared between conversations (it holds the original values)."""

    _by_value: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)
    _originals: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _numbers: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _kinds: Counter[str] = field(default_factory=Counter, init=False, repr=False)

    def mask(self, text: str) -> str:
        """`text` with every finding replaced by its placeholder ([EMAIL_1], [NAME_2], ...)."""
        findings = find_pii(text)
        if not findings:
            return text
        parts: list[str] = []
        pos = 0
        for f in findings:
            parts.append(text[pos : f.start])
            parts.append(self._placeholder(f))
            pos = f.end
        parts.append(text[pos:])
        return "".join(parts)

    def mask_known(self, text: str) -> str:
        """`text` with the values this masker has already masked replaced by their placeholders
        (an answer that repeats the question's personal data), nothing else touched."""
        for placeholder, original in sorted(self._originals.items(), key=lambda kv: -len(kv[1])):
            text = text.replace(original, placeholder)
        return text

    def _placeholder(self, finding: Finding) -> str:
        key = (finding.kind, _canonical(finding.kind, finding.text))
        self._kinds[finding.kind] += 1
        placeholder = self._by_value.get(key)
        if placeholder is None:
            tag = _TAGS[finding.kind]
            self._numbers[tag] += 1
            placeholder = f"[{tag}_{self._numbers[tag]}]"
            self._by_value[key] = placeholder
            self._originals[placeholder] = finding.text
        return placeholder

    def restore(self, text: str, only: set[str] | None = None) -> str:
        """Put the original values back for this masker's placeholders (only those in `only`,
        written "[EMAIL_1]" or "EMAIL_1", if given). Unknown placeholders stay as they are;
        full-width brackets (［NAME_1］), which models sometimes write, are accepted."""
        wanted = None if only is None else {p if p.startswith("[") else f"[{p}]" for p in only}

        def put_back(m: re.Match[str]) -> str:
            key = f"[{m[1]}_{m[2]}]"
            if key not in self._originals or (wanted is not None and key not in wanted):
                return m[0]
            return self._originals[key]

        return _PLACEHOLDER.sub(put_back, text)

    @property
    def placeholders(self) -> dict[str, str]:
        """Placeholder -> original value (as first seen)."""
        return dict(self._originals)

    @property
    def kinds(self) -> Counter[str]:
        """How many findings of each kind this masker has masked (occurrences, not values)."""
        return Counter(self._kinds)


# --- policy ----------------------------------------------------------------------------------


class Policy(StrEnum):
    """What to do with personal data in text bound for the LLM (a str: Policy("mask") works)."""

    MASK = "mask"
    REFUSE = "refuse"
    ALLOW = "allow"


class PiiRefused(Exception):
    """Raised by guard() under Policy.REFUSE: the text contains personal data. The message says
    which kinds (in Japanese), never the values."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self.kinds: tuple[str, ...] = _ordered_kinds(kinds)
        super().__init__(
            f"個人情報（{describe(self.kinds)}）が含まれているため、外部のAIサービスに送信できません。"
            "該当する部分を削除するか伏せ字にしてから、もう一度お試しください。"
        )


def guard(texts: Sequence[str], policy: Policy, masker: Masker) -> list[str]:
    """Apply `policy` to texts bound for the LLM. MASK: the masked texts (placeholders recorded
    in `masker`); REFUSE: raise PiiRefused if any text contains personal data, else the texts
    unchanged; ALLOW: the texts unchanged."""
    policy = Policy(policy)
    if policy is Policy.MASK:
        return [masker.mask(t) for t in texts]
    if policy is Policy.REFUSE:
        kinds = {f.kind for t in texts for f in find_pii(t)}
        if kinds:
            raise PiiRefused(kinds)
    return list(texts)


def _ordered_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    seen = dict.fromkeys(kinds)
    known = [k for k in _DISPLAY_ORDER if k in seen]
    return (*known, *(k for k in seen if k not in _TAGS))


def describe(kinds: Iterable[str], lang: str = "ja") -> str:
    """User-facing list of kinds, each once, in a fixed order: "メールアドレス、電話番号"."""
    if lang not in _LABELS:
        raise ValueError(f"unsupported language: {lang!r}")
    labels = _LABELS[lang]
    return _JOINERS[lang].join(labels.get(k, k) for k in _ordered_kinds(kinds))


__all__ = [
    "KINDS",
    "Finding",
    "Masker",
    "PiiKind",
    "PiiRefused",
    "Policy",
    "describe",
    "find_pii",
    "guard",
    "my_number_check_digit",
]

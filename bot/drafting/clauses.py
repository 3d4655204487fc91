"""Contract clause templates: Markdown files under knowledge/templates/clauses/ that the legal team
edits without touching code, read into a ClauseLibrary and filled with checked values.

A template is an ordinary knowledge-base document (front matter validated as DocMeta, so it is
indexed and searchable) whose front matter carries a ``drafting:`` block::

    drafting:
      topic: 再委託                      # the name users ask for (unique)
      heading: 第三者及び再委託先への開示    # the article heading (第N条（heading）)
      aliases: [再々委託, subcontracting]  # other names (unique across the library)
      explanation: 再委託には…           # one or two sentences shown next to the clause
      params:                            # values a user may set, each with a default
        - {name: notice_days, label: 申請の期限（日前）, default: "14", pattern: "^[0-9]{1,3}$"}
      variants: {default: 条文, strict: 条文（禁止）}  # variant key -> body section heading

The clause text of a variant is every non-empty line under its section heading (``## 条文``).
In that text:

- ``{{name}}`` is a parameter's value; ``{{discloser}}`` / ``{{recipient}}`` are the role words
  (甲 / 乙 unless the caller says otherwise);
- ``{{article:トピック}}`` (several topics separated by commas) names other articles: 第N条 when
  the caller numbers the articles (an NDA), otherwise 「見出し」の条;
- a line starting with ``{{if name}}`` is kept only when that parameter is "on" (not empty,
  ``no`` or ``0``); ``{{unless name}}`` is the opposite; several conditions may be chained;
- a line starting with a number (``２　``) is a paragraph (項) and one starting with ``（１）`` an
  item (号): both are renumbered after conditional lines are dropped, so the first paragraph
  carries no number and the others run ２、３、… ; other lines are kept as written.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.knowledge.loaders import LoadError, split_front_matter
from bot.knowledge.models import DocMeta
from bot.knowledge.text import normalize

CLAUSES_SUBDIR = Path("templates") / "clauses"
DEFAULT_VARIANT = "default"
ROLE_NAMES = ("discloser", "recipient")
RESERVED_NAMES = frozenset({*ROLE_NAMES, "article", "if", "unless"})
# What must never survive into a finished clause: placeholders of other templates, unfinished
# alternatives, blanks and empty brackets.
FORBIDDEN_TEXT = ("{{", "}}", "案A", "案B", "＿＿", "○○", "（）", "()")

_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
_CONDITION = re.compile(r"^\{\{\s*(if|unless)\s+([^{}\s]+)\s*\}\}\s*")
_PARAGRAPH_NO = re.compile(r"^[0-9０-９]+[ 　]+")
_ITEM_NO = re.compile(r"^[（(][0-9０-９]+[）)][ 　]*")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]"
)
_OFF = frozenset({"", "no", "0", "false", "いいえ", "なし"})
_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


class ClauseError(ValueError):
    """A clause that cannot be loaded or filled; the message (Japanese) names the bad key or value."""


@dataclass(frozen=True)
class ClauseParam:
    name: str
    label: str
    default: str
    pattern: str | None = None
    max_len: int = 100


@dataclass(frozen=True)
class ClauseTemplate:
    topic: str
    aliases: tuple[str, ...]
    title: str
    source: str  # e.g. "knowledge/templates/clauses/subcontracting.md"
    explanation: str
    params: tuple[ClauseParam, ...]
    variants: dict[str, str] = field(hash=False)  # variant key -> clause text with placeholders
    references: tuple[str, ...]  # the document's source titles
    heading: str  # article heading: 第N条（heading）
    variant_labels: dict[str, str] = field(hash=False)  # variant key -> section heading

    def param(self, name: str) -> ClauseParam | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class FilledClause:
    template: ClauseTemplate
    variant: str
    text: str  # plain text, one paragraph or item per line
    values: dict[str, str] = field(hash=False)  # every parameter's value (defaults included)

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(self.text.split("\n"))


# -- front matter schema ---------------------------------------------------------------------


class _ParamSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    default: str = ""
    pattern: str | None = None
    max_len: int = Field(default=100, ge=1, le=2000)

    @field_validator("default", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # YAML reads `default: 14` as a number; the curator meant the text "14".
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class _DraftingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=1)
    heading: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    explanation: str = Field(min_length=1)
    params: list[_ParamSpec] = Field(default_factory=list)
    variants: dict[str, str] = Field(min_length=1)


# -- the library -----------------------------------------------------------------------------


class ClauseLibrary:
    """Every clause template of a knowledge folder, looked up by topic or alias."""

    def __init__(self, templates: Iterable[ClauseTemplate]) -> None:
        self._templates = sorted(templates, key=lambda t: t.source)
        self._by_key: dict[str, ClauseTemplate] = {}
        for t in self._templates:
            for name in (t.topic, *t.aliases, Path(t.source).stem):
                self._register(name, t)
        for t in self._templates:
            self._check_references(t)

    @classmethod
    def load(cls, knowledge_dir: Path) -> ClauseLibrary:
        """Read knowledge_dir/templates/clauses/*.md; a broken file raises ClauseError naming it."""
        folder = knowledge_dir / CLAUSES_SUBDIR
        if not folder.is_dir():
            raise ClauseError(f"条項テンプレートのフォルダ {folder} がありません。")
        paths = sorted(p for p in folder.glob("*.md") if not p.name.startswith((".", "_")))
        return cls(_load_template(p, p.relative_to(knowledge_dir.parent).as_posix()) for p in paths)

    def topics(self) -> list[ClauseTemplate]:
        """All templates, ordered by file name."""
        return list(self._templates)

    def find(self, topic: str) -> ClauseTemplate | None:
        """By topic, alias or file name; NFKC-normalised, case-insensitive, spaces ignored."""
        return self._by_key.get(_key(topic))

    def fill(
        self,
        topic: str,
        values: Mapping[str, str] | None = None,
        variant: str | None = None,
        roles: tuple[str, str] = ("甲", "乙"),
        *,
        article_numbers: Mapping[str, int] | None = None,
    ) -> FilledClause:
        """Fill a template. ``roles`` is (discloser, recipient). ``article_numbers`` maps topics to
        article numbers, for ``{{article:…}}`` references inside a numbered contract."""
        template = self.find(topic)
        if template is None:
            raise ClauseError(self._unknown_topic_message(topic))
        key = _variant_key(template, variant)
        effective = _effective_values(template, values or {})
        role_words = _check_roles(roles)

        def article(names: str) -> str:
            return self._article_text(names, article_numbers)

        lines = _render_lines(template, template.variants[key], effective, role_words, article)
        text = "\n".join(lines)
        _check_clean(text, f"条項「{template.topic}」")
        return FilledClause(template=template, variant=key, text=text, values=effective)

    # -- internals ---------------------------------------------------------------------------

    def _register(self, name: str, template: ClauseTemplate) -> None:
        key = _key(name)
        other = self._by_key.get(key)
        if other is not None and other is not template:
            raise ClauseError(
                f"条項名「{name}」が {other.source} と {template.source} の両方にあります。"
                "トピックと別名は一つのテンプレートにだけ付けてください。"
            )
        self._by_key[key] = template

    def _check_references(self, template: ClauseTemplate) -> None:
        for text in template.variants.values():
            for m in _PLACEHOLDER.finditer(text):
                inner = m.group(1).strip()
                if not inner.startswith("article:"):
                    continue
                for name in _split_names(inner.removeprefix("article:")):
                    if self.find(name) is None:
                        raise ClauseError(
                            f"{template.source}：{{{{article:…}}}} が指す条項「{name}」がありません。"
                        )

    def _article_text(self, names: str, numbers: Mapping[str, int] | None) -> str:
        targets = [t for t in (self.find(n) for n in _split_names(names)) if t is not None]
        if numbers is None:
            quoted = [f"「{t.heading}」" for t in targets]
            return f"{_join_ja(quoted)}の{'各条' if len(quoted) > 1 else '条'}"
        found = sorted({numbers[t.topic] for t in targets if t.topic in numbers})
        if not found:
            raise ClauseError(f"参照先の条（{names}）がこの契約書にありません。")
        return _join_ja(_article_ranges(found))

    def _unknown_topic_message(self, topic: str) -> str:
        wanted = _key(topic)
        names = [t.topic for t in self._templates]
        close = [
            self._by_key[k].topic
            for k in difflib.get_close_matches(wanted, list(self._by_key), n=8, cutoff=0.4)
        ]
        close += [t for t in names if wanted and (wanted in _key(t) or _key(t) in wanted)]
        unique = list(dict.fromkeys(close))[:5]
        if unique:
            return f"条項「{topic}」は見つかりません。近いもの：{'、'.join(unique)}"
        return f"条項「{topic}」は見つかりません。使える条項：{'、'.join(names)}"


# -- loading ---------------------------------------------------------------------------------


def _load_template(path: Path, source: str) -> ClauseTemplate:
    where = f"条項テンプレート {source}"
    try:
        data, body = split_front_matter(path.read_text(encoding="utf-8"))
    except (LoadError, OSError, UnicodeDecodeError) as exc:
        raise ClauseError(f"{where} を読めません：{exc}") from None
    if data is None:
        raise ClauseError(f"{where} に front matter がありません。")
    try:
        meta = DocMeta.model_validate(data)
    except ValidationError as exc:
        raise ClauseError(f"{where} の front matter が正しくありません（{_errors(exc)}）") from None
    if meta.drafting is None:
        raise ClauseError(f"{where} の front matter に drafting: がありません。")
    try:
        spec = _DraftingSpec.model_validate(meta.drafting)
    except ValidationError as exc:
        raise ClauseError(f"{where} の drafting: が正しくありません（{_errors(exc)}）") from None
    template = _template_from(spec, meta, body, source)
    _check_template(template, where)
    return template


def _template_from(spec: _DraftingSpec, meta: DocMeta, body: str, source: str) -> ClauseTemplate:
    where = f"条項テンプレート {source}"
    sections, repeated = _sections(body)
    if DEFAULT_VARIANT not in spec.variants:
        raise ClauseError(f"{where} の drafting.variants に default がありません。")
    variants: dict[str, str] = {}
    for key, heading in spec.variants.items():
        text = sections.get(heading.strip())
        if heading.strip() in repeated:
            raise ClauseError(f"{where} に見出し「## {heading}」が二つあります（variant {key}）。")
        if not text:
            raise ClauseError(
                f"{where} に見出し「## {heading}」の条文がありません（variant {key}）。"
            )
        variants[key] = text
    params = tuple(
        ClauseParam(p.name, p.label, p.default.strip(), p.pattern, p.max_len) for p in spec.params
    )
    return ClauseTemplate(
        topic=spec.topic.strip(),
        aliases=tuple(a.strip() for a in spec.aliases if a.strip()),
        title=meta.title,
        source=source,
        explanation=spec.explanation.strip(),
        params=params,
        variants=variants,
        references=tuple(s.title for s in meta.sources),
        heading=spec.heading.strip(),
        variant_labels=dict(spec.variants),
    )


def _sections(body: str) -> tuple[dict[str, str], set[str]]:
    """Text under each heading of level 2 or deeper (non-empty lines only), and the headings
    that occur more than once."""
    sections: dict[str, list[str]] = {}
    repeated: set[str] = set()
    current: list[str] | None = None
    for raw in body.split("\n"):
        m = _HEADING.match(raw)
        if m:
            if m.group(2) in sections:
                repeated.add(m.group(2))
            current = None if len(m.group(1)) == 1 else sections.setdefault(m.group(2), [])
            continue
        line = raw.strip(" \t\r")
        if current is not None and line:
            current.append(line)
    return {k: "\n".join(v) for k, v in sections.items()}, repeated


def _check_template(template: ClauseTemplate, where: str) -> None:
    names = {p.name for p in template.params}
    if len(names) != len(template.params):
        raise ClauseError(f"{where}：params に同じ name が二つあります。")
    for p in template.params:
        _check_param(p, where)
    for key, text in template.variants.items():
        for line in text.split("\n"):
            _check_line(line, names, f"{where}（variant {key}）")
        for bad in FORBIDDEN_TEXT[2:]:
            if bad in text:
                raise ClauseError(f"{where}（variant {key}）の条文に「{bad}」が残っています。")


def _check_param(p: ClauseParam, where: str) -> None:
    if p.name in RESERVED_NAMES:
        raise ClauseError(f"{where}：「{p.name}」は予約語なので項目名に使えません。")
    if p.pattern is not None:
        try:
            re.compile(p.pattern)
        except re.error as exc:
            raise ClauseError(
                f"{where}：{p.name} の pattern が正しくありません（{exc}）。"
            ) from None
    if p.default:
        try:
            _check_value(p, p.default)
        except ClauseError as exc:
            raise ClauseError(f"{where}：{p.name} の default が不正です。{exc}") from None


def _check_line(line: str, names: set[str], where: str) -> None:
    conditions, rest = _split_conditions(line)
    for _, name in conditions:
        if name not in names:
            raise ClauseError(
                f"{where}：条件 {{{{if {name}}}}} の「{name}」が params にありません。"
            )
    for m in _PLACEHOLDER.finditer(rest):
        inner = m.group(1).strip()
        if inner in ROLE_NAMES or inner.startswith("article:"):
            continue
        if inner not in names:
            raise ClauseError(f"{where}：差し込み項目 {{{{{inner}}}}} が params にありません。")
    leftover = _PLACEHOLDER.sub("", rest)
    if "{" in leftover or "}" in leftover:
        raise ClauseError(f"{where}：波括弧の閉じ忘れがあります：{line}")


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '全体'}: {err['msg']}"
        for err in exc.errors()[:5]
    )


# -- filling ---------------------------------------------------------------------------------


def _key(text: str) -> str:
    return normalize(text).strip().replace(" ", "")


def _variant_key(template: ClauseTemplate, variant: str | None) -> str:
    key = DEFAULT_VARIANT if variant is None else variant.strip()
    if key in template.variants:
        return key
    for k, label in template.variant_labels.items():  # the section heading works too
        if _key(label) == _key(key):
            return k
    options = "、".join(f"{k}（{v}）" for k, v in template.variant_labels.items())
    raise ClauseError(f"条項「{template.topic}」に案「{variant}」はありません。使える案：{options}")


def _effective_values(template: ClauseTemplate, values: Mapping[str, str]) -> dict[str, str]:
    given: dict[str, str] = {}
    for raw_key, raw_value in values.items():
        name = _key(str(raw_key))
        param = template.param(name)
        if param is None:
            raise ClauseError(_unknown_key_message(template, str(raw_key)))
        given[name] = _check_value(param, str(raw_value))
    return {p.name: given.get(p.name, p.default) for p in template.params}


def _unknown_key_message(template: ClauseTemplate, key: str) -> str:
    if not template.params:
        return f"条項「{template.topic}」に指定できる項目はありません（「{key}」は使えません）。"
    valid = "、".join(f"{p.name}（{p.label}）" for p in template.params)
    return f"条項「{template.topic}」に項目「{key}」はありません。使える項目：{valid}"


def _check_value(param: ClauseParam, value: str) -> str:
    """The value as it will be inserted, or ClauseError saying what is wrong with it."""
    value = value.strip()
    label = f"{param.name}（{param.label}）"
    if _CONTROL.search(value):
        raise ClauseError(f"{label} の値に改行や制御文字は使えません。")
    if "{{" in value or "}}" in value:
        raise ClauseError(f"{label} の値に「{{{{」「}}}}」は使えません。")
    if param.pattern is not None and value:
        value = unicodedata.normalize("NFKC", value)
        if re.fullmatch(param.pattern, value) is None:
            raise ClauseError(
                f"{label} の値「{value}」は形式が正しくありません。{_expected(param)}"
            )
    if len(value) > param.max_len:
        raise ClauseError(
            f"{label} の値が長すぎます（{len(value)}文字。上限{param.max_len}文字）。"
        )
    return value


def _check_roles(roles: tuple[str, str]) -> dict[str, str]:
    words = {}
    for name, word in zip(ROLE_NAMES, roles, strict=True):
        word = word.strip()
        if not word or _CONTROL.search(word) or "{" in word or "}" in word:
            raise ClauseError(f"当事者の呼び方（{name}）「{word}」は使えません。")
        words[name] = word
    return words


def _is_on(value: str) -> bool:
    return value.strip().lower() not in _OFF


def _split_conditions(line: str) -> tuple[list[tuple[str, str]], str]:
    conditions: list[tuple[str, str]] = []
    while m := _CONDITION.match(line):
        conditions.append((m.group(1), m.group(2)))
        line = line[m.end() :]
    return conditions, line


def _render_lines(
    template: ClauseTemplate,
    text: str,
    values: Mapping[str, str],
    roles: Mapping[str, str],
    article: Callable[[str], str],
) -> list[str]:
    kept: list[str] = []
    for line in text.split("\n"):
        conditions, rest = _split_conditions(line)
        if all(_is_on(values[n]) == (kind == "if") for kind, n in conditions):
            kept.append(_substitute(template, rest, values, roles, article))
    return _renumber(kept)


def _substitute(
    template: ClauseTemplate,
    line: str,
    values: Mapping[str, str],
    roles: Mapping[str, str],
    article: Callable[[str], str],
) -> str:
    def replace(m: re.Match[str]) -> str:
        inner = m.group(1).strip()
        if inner in roles:
            return roles[inner]
        if inner.startswith("article:"):
            return article(inner.removeprefix("article:"))
        value = values[inner]
        if not value:
            param = template.param(inner)
            label = param.label if param else inner
            raise ClauseError(f"条項「{template.topic}」には {inner}（{label}）の値が必要です。")
        return value

    return _PLACEHOLDER.sub(replace, line)


def _renumber(lines: list[str]) -> list[str]:
    """Number paragraphs ２、３… (the first has none) and items （１）（２）… within each."""
    out: list[str] = []
    paragraph = item = 0
    for line in lines:
        if _ITEM_NO.match(line):
            item += 1
            out.append(f"（{_fw(item)}）{_ITEM_NO.sub('', line)}")
        elif _PARAGRAPH_NO.match(line) or not out:
            paragraph += 1
            item = 0
            body = _PARAGRAPH_NO.sub("", line)
            out.append(body if paragraph == 1 else f"{_fw(paragraph)}　{body}")
        else:
            out.append(line)
    return out


def _fw(n: int) -> str:
    return str(n).translate(_FULLWIDTH_DIGITS)


def _check_clean(text: str, where: str) -> None:
    for bad in FORBIDDEN_TEXT:
        if bad in text:
            raise ClauseError(
                f"{where}の結果に「{bad}」が残りました。テンプレートか値を直してください。"
            )


def _split_names(names: str) -> list[str]:
    return [n.strip() for n in re.split(r"[,、，]", names) if n.strip()]


def _join_ja(parts: list[str]) -> str:
    """A、B及びC"""
    if len(parts) <= 1:
        return "".join(parts)
    return "、".join(parts[:-1]) + "及び" + parts[-1]


def _article_ranges(numbers: list[int]) -> list[str]:
    """[2,3,4,5,7] -> ["第2条から第5条まで", "第7条"]: runs of three or more become ranges."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"第{run[0]}条から第{run[-1]}条まで")
        else:
            parts.extend(f"第{n}条" for n in run)
    return parts


# -- command arguments -----------------------------------------------------------------------

_QUOTES = str.maketrans({"“": '"', "”": '"', "＂": '"', "‘": "'", "’": "'", "＇": "'"})


def parse_clause_args(text: str) -> tuple[str, dict[str, str]]:
    """``再委託 notice_days=30 "name=株式会社 X"`` -> ("再委託", {"notice_days": "30", "name": …}).

    Words are separated by spaces (full-width too); single or double quotes (also “ ” as chat
    clients type them) keep spaces inside a word, and a backslash escapes the next character.
    ``＝`` works like ``=``. An empty text gives ("", {}): the caller lists the topics."""
    words = _split_words(text.translate(_QUOTES))
    if not words:
        return "", {}
    topic, *pairs = words
    if _has_equals(topic):
        raise ClauseError(f"最初に条項のトピックを書いてください（例：/clause 再委託 {topic}）。")
    values: dict[str, str] = {}
    for pair in pairs:
        key, value = _split_pair(pair)
        if key in values:
            raise ClauseError(f"項目「{key}」が二度指定されています。")
        values[key] = value
    return topic, values


def _has_equals(word: str) -> bool:
    return "=" in word or "＝" in word


def _split_pair(word: str) -> tuple[str, str]:
    m = re.match(r"^([^=＝]*)[=＝](.*)$", word, flags=re.DOTALL)
    if m is None:
        raise ClauseError(f"「{word}」は「項目=値」の形で書いてください（例：notice_days=30）。")
    key = _key(m.group(1))
    if not key:
        raise ClauseError(f"「{word}」に項目名がありません（例：notice_days=30）。")
    return key, m.group(2)


def _split_words(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote: str | None = None
    chars = iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, None)
            if nxt is None:
                raise ClauseError("最後の「\\」の後に文字がありません。")
            current.append(nxt)
            in_word = True
        elif quote is not None:
            if ch == quote:
                quote = None
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
            in_word = True
        elif ch.isspace():
            if in_word:
                words.append("".join(current))
            current, in_word = [], False
        else:
            current.append(ch)
            in_word = True
    if quote is not None:
        raise ClauseError(f"引用符 {quote} が閉じられていません。")
    if in_word:
        words.append("".join(current))
    return words


def _expected(param: ClauseParam) -> str:
    """What a value should look like, in words (never the regular expression itself)."""
    digits = re.fullmatch(r"\^\[0-9\]\{1,(\d+)\}\$", param.pattern or "")
    if digits:
        return f"半角数字（{digits.group(1)}桁まで）で入力してください（例：{param.default}）。"
    if param.pattern == "^(yes|no)$":
        return "yes か no で入力してください。"
    return f"入力例：{param.default}"

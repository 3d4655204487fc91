"""How risky a subcontracting request is, by rules kept as data (knowledge/rules/
subcontract_risk.yaml): each rule is a condition on the answers, points, a reason and its legal
source. The points add up to a score, thresholds turn the score into a level, and a rule may
alone decide the level (force_level: My Number work, which needs the entrustor's permission).

The conditions test the fields of one answers model: SubcontractAnswers here; another rules file
names its own (bot/contractors/risk.py rates ledger contractors by their facts), by subclassing
RiskRules and setting `answers_model`, `file_model` and `what`.

The file is checked when it is loaded: unknown answers, an op that does not fit the answer, a
missing argument, a list that is not defined, a level out of order are refused with a message
that names where the problem is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from bot.approvals.subcontract_fields import SubcontractAnswers, normalize_name
from bot.dialogs.spec import FieldKind, FieldSpec, field_spec

Level = Literal["low", "medium", "high"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high")
LEVEL_LABELS: dict[Level, str] = {"low": "低", "medium": "中", "high": "高"}

RULES_FILE = Path("rules") / "subcontract_risk.yaml"


def default_rules_path(knowledge_dir: Path) -> Path:
    return knowledge_dir / RULES_FILE


# -- the assessment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskReason:
    rule_id: str
    text: str
    points: int
    source: str
    kb: str | None = None  # the knowledge-base file that explains the rule


@dataclass(frozen=True)
class RiskAssessment:
    level: Level
    score: int
    reasons: tuple[RiskReason, ...]

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = _ASSESSMENT.dump_python(self, mode="json")
        return data

    @classmethod
    def from_json(cls, data: Any) -> RiskAssessment:
        try:
            return _ASSESSMENT.validate_python(data)
        except ValidationError as e:
            raise ValueError(f"リスク評価のデータを読めません: {describe(e)}") from e


_ASSESSMENT = TypeAdapter(RiskAssessment)


# -- conditions ---------------------------------------------------------------------------------

Op = Literal[
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "missing",
    "present",
    "empty",
    "not_empty",
    "contains",
    "not_contains",
    "in",
    "not_in",
    "older_than",
]

_OPS_BY_KIND: dict[FieldKind, tuple[str, ...]] = {
    "bool": ("eq", "ne"),
    "int": ("eq", "ne", "gt", "ge", "lt", "le", "missing", "present"),
    "date": ("older_than", "missing", "present"),
    "text": ("eq", "ne", "in", "not_in", "empty", "not_empty", "missing", "present"),
    "textarea": ("empty", "not_empty", "missing", "present"),
    "choice": ("eq", "ne", "in", "not_in"),
    "multi": ("contains", "not_contains", "empty", "not_empty"),
}
_TAKES_VALUE = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "contains", "not_contains"})
_TAKES_NAMES = frozenset({"in", "not_in"})
_TAKES_DAYS = frozenset({"older_than"})

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


@dataclass(frozen=True)
class _Context:
    today: dt.date
    lists: Mapping[str, frozenset[str]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ANSWERS_MODEL = "answers_model"  # the validation context's key: the model the rules test


def _answer(name: str, model: type[BaseModel] = SubcontractAnswers) -> FieldSpec:
    info = model.model_fields.get(name)
    if info is None:
        known = "、".join(model.model_fields)
        raise ValueError(f"field '{name}' という回答はありません（使えるのは {known}）")
    return field_spec(name, info)


def _check_value(spec: FieldSpec, value: bool | int | str) -> None:
    if spec.kind == "bool":
        ok = isinstance(value, bool)
    elif spec.kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif spec.kind in ("choice", "multi"):
        ok = isinstance(value, str) and value in spec.options
    else:
        ok = isinstance(value, str)
    if not ok:
        expected = {"bool": "true か false", "int": "数"}.get(
            spec.kind, f"{sorted(spec.options)} のどれか" if spec.options else "文字列"
        )
        raise ValueError(f"field '{spec.name}' の value {value!r} は使えません（{expected}）")


class FieldTest(_Strict):
    """A test on one answer: {field, op} and the op's argument (value, list or values, days)."""

    field: str
    op: Op
    value: bool | int | str | None = None
    list_name: str | None = Field(default=None, alias="list")
    values: list[Name] | None = Field(default=None, min_length=1)
    days: int | None = Field(default=None, ge=1, le=36_500)

    @model_validator(mode="after")
    def _fits_the_answer(self, info: ValidationInfo) -> FieldTest:
        context = info.context if isinstance(info.context, dict) else {}
        spec = _answer(self.field, context.get(ANSWERS_MODEL, SubcontractAnswers))
        allowed = _OPS_BY_KIND[spec.kind]
        if self.op not in allowed:
            raise ValueError(
                f"op '{self.op}' は field '{self.field}' には使えません（使えるのは {', '.join(allowed)}）"
            )
        self._check_arguments()
        if self.value is not None:
            _check_value(spec, self.value)
        return self

    def _check_arguments(self) -> None:
        given = {
            "value": self.value is not None,
            "list": self.list_name is not None,
            "values": self.values is not None,
            "days": self.days is not None,
        }
        needed = self._needed()
        extra = [k for k, present in given.items() if present and k not in needed]
        if extra:
            raise ValueError(f"op '{self.op}' に {', '.join(extra)} は要りません")
        if self.op in _TAKES_NAMES:
            if given["list"] == given["values"]:
                raise ValueError(f"op '{self.op}' には list か values のどちらか一つが必要です")
        elif needed and not any(given[k] for k in needed):
            raise ValueError(f"op '{self.op}' には {needed[0]} が必要です")

    def _needed(self) -> tuple[str, ...]:
        if self.op in _TAKES_VALUE:
            return ("value",)
        if self.op in _TAKES_NAMES:
            return ("list", "values")
        if self.op in _TAKES_DAYS:
            return ("days",)
        return ()

    def lists_used(self) -> Iterator[str]:
        if self.list_name is not None:
            yield self.list_name

    def names(self, ctx: _Context) -> frozenset[str]:
        if self.list_name is not None:
            return ctx.lists[self.list_name]
        return frozenset(normalize_name(v) for v in self.values or ())

    def holds(self, answers: BaseModel, ctx: _Context) -> bool:
        return _OPS[self.op](self, getattr(answers, self.field), ctx)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return normalize_name(a) == normalize_name(b)
    return bool(a == b)


def _older_than(test: FieldTest, value: Any, ctx: _Context) -> bool:
    return value is not None and (ctx.today - value).days > (test.days or 0)


_OPS: dict[str, Callable[[FieldTest, Any, _Context], bool]] = {
    "eq": lambda t, v, c: v is not None and _same(v, t.value),
    "ne": lambda t, v, c: not _same(v, t.value),
    "gt": lambda t, v, c: v is not None and v > t.value,
    "ge": lambda t, v, c: v is not None and v >= t.value,
    "lt": lambda t, v, c: v is not None and v < t.value,
    "le": lambda t, v, c: v is not None and v <= t.value,
    "missing": lambda t, v, c: v is None,
    "present": lambda t, v, c: v is not None,
    "empty": lambda t, v, c: not v,
    "not_empty": lambda t, v, c: bool(v),
    "contains": lambda t, v, c: t.value in (v or ()),
    "not_contains": lambda t, v, c: t.value not in (v or ()),
    "in": lambda t, v, c: v is not None and normalize_name(v) in t.names(c),
    "not_in": lambda t, v, c: v is not None and normalize_name(v) not in t.names(c),
    "older_than": _older_than,
}


class AllOf(_Strict):
    conditions: list[Condition] = Field(alias="all", min_length=1)

    def lists_used(self) -> Iterator[str]:
        for c in self.conditions:
            yield from c.lists_used()

    def holds(self, answers: BaseModel, ctx: _Context) -> bool:
        return all(c.holds(answers, ctx) for c in self.conditions)


class AnyOf(_Strict):
    conditions: list[Condition] = Field(alias="any", min_length=1)

    def lists_used(self) -> Iterator[str]:
        for c in self.conditions:
            yield from c.lists_used()

    def holds(self, answers: BaseModel, ctx: _Context) -> bool:
        return any(c.holds(answers, ctx) for c in self.conditions)


class NotOf(_Strict):
    condition: Condition = Field(alias="not")

    def lists_used(self) -> Iterator[str]:
        yield from self.condition.lists_used()

    def holds(self, answers: BaseModel, ctx: _Context) -> bool:
        return not self.condition.holds(answers, ctx)


_TAGS: dict[type[BaseModel], str] = {FieldTest: "field", AllOf: "all", AnyOf: "any", NotOf: "not"}


def _condition_tag(raw: Any) -> str | None:
    if isinstance(raw, dict):
        keys = [k for k in ("all", "any", "not") if k in raw]
        if len(keys) > 1:
            return None  # ambiguous: refused with the message below
        return keys[0] if keys else "field"
    return _TAGS.get(type(raw))


Condition = Annotated[
    Annotated[FieldTest, Tag("field")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="条件は {field, op, ...}、{all: [...]}、{any: [...]}、{not: ...} のどれかで書いてください",
    ),
]

for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


# -- the rules file -----------------------------------------------------------------------------


class NamedList(_Strict):
    """Names to compare an answer with; each entry is one place and the ways to write it."""

    description: str = Field(min_length=1)
    source: str = Field(min_length=1)
    kb: str | None = Field(default=None, pattern=r"^knowledge/[\w./-]+\.md$")
    entries: list[list[Name]] = Field(min_length=1)

    @model_validator(mode="after")
    def _nameable(self) -> NamedList:
        for entry in self.entries:
            if not entry or not all(normalize_name(n) for n in entry):
                raise ValueError(f"entries の {entry!r} に比べられる名前がありません")
        return self

    def names(self) -> frozenset[str]:
        return frozenset(normalize_name(n) for entry in self.entries for n in entry)


class Thresholds(_Strict):
    """The lowest score of each level above low."""

    medium: int = Field(ge=1)
    high: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.medium >= self.high:
            raise ValueError("levels の medium は high より小さい点数にしてください")
        return self

    def level_for(self, score: int) -> Level:
        if score >= self.high:
            return "high"
        return "medium" if score >= self.medium else "low"


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")
    when: Condition
    points: int = Field(ge=0, le=100)
    reason: str = Field(min_length=1, max_length=300)
    source: str = Field(min_length=1, max_length=300)
    kb: str | None = Field(default=None, pattern=r"^knowledge/[\w./-]+\.md$")
    force_level: Level | None = None  # the level this rule alone decides (at least)

    @model_validator(mode="after")
    def _counts(self) -> Rule:
        if self.points == 0 and self.force_level is None:
            raise ValueError(f"rule '{self.id}' は points も force_level もなく、何も変えません")
        return self


class RulesFile(_Strict):
    version: Literal[1]
    levels: Thresholds
    lists: dict[str, NamedList] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> RulesFile:
        ids = [r.id for r in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule の id が重なっています: {', '.join(twice)}")
        for rule in self.rules:
            unknown = sorted(set(rule.when.lists_used()) - set(self.lists))
            if unknown:
                raise ValueError(
                    f"rule '{rule.id}' の list {', '.join(unknown)} が lists にありません"
                )
        return self


class RiskRules:
    answers_model: ClassVar[type[BaseModel]] = SubcontractAnswers  # what the conditions test
    file_model: ClassVar[type[RulesFile]] = RulesFile
    what: ClassVar[str] = "再委託リスクのルール"  # how messages name the file

    def __init__(self, data: RulesFile) -> None:
        self.data = data
        self._lists = {name: named.names() for name, named in data.lists.items()}

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise ValueError(f"{cls.what} {path} を読めません: {e}") from e
        try:
            data = cls.file_model.model_validate(raw, context={ANSWERS_MODEL: cls.answers_model})
        except ValidationError as e:
            raise ValueError(f"{cls.what} {path} に誤りがあります: {describe(e)}") from e
        return cls(data)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.data.rules)

    def in_list(self, list_name: str, text: str) -> bool:
        """Whether a name (a country, say) is in one of the file's lists."""
        return normalize_name(text) in self._lists[list_name]

    def assess(self, answers: BaseModel, today: dt.date | None = None) -> RiskAssessment:
        ctx = _Context(today or dt.date.today(), self._lists)
        fired = [r for r in self.data.rules if r.when.holds(answers, ctx)]
        score = sum(r.points for r in fired)
        level = self.data.levels.level_for(score)
        for rule in fired:
            if rule.force_level is not None and _rank(rule.force_level) > _rank(level):
                level = rule.force_level
        reasons = tuple(RiskReason(r.id, r.reason, r.points, r.source, r.kb) for r in fired)
        return RiskAssessment(level, score, reasons)


def _rank(level: Level) -> int:
    return LEVELS.index(level)


# -- messages -----------------------------------------------------------------------------------

_CONDITION_KEYS = ("when", "not")


def _where(loc: tuple[int | str, ...]) -> str:
    """rules[3].when.all[1].op, without the union tags pydantic puts in the location."""
    out = ""
    expect_tag = False
    previous: int | str | None = None
    for item in loc:
        if expect_tag and item in ("field", "all", "any", "not"):
            expect_tag = False
            previous = item
            continue
        if isinstance(item, int):
            out += f"[{item}]"
            expect_tag = previous in ("all", "any")
        else:
            out += f".{item}" if out else str(item)
            expect_tag = item in _CONDITION_KEYS
        previous = item
    return out or "(ファイル全体)"


def describe(error: ValidationError, limit: int = 5) -> str:
    """A ValidationError as `where: what; ...`, the first few problems only."""
    parts = []
    for err in error.errors()[:limit]:
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{_where(tuple(err.get('loc', ())))}: {message}")
    more = len(error.errors()) - limit
    if more > 0:
        parts.append(f"ほか{more}件")
    return "; ".join(parts)

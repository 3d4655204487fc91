"""A dialog is data: a pydantic model holds every field (type, limits, default, labels), and
steps group its fields, say when they apply, and point at the knowledge base for guidance."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ValidationError, create_model, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.llm.pii import Masker

REVIEW = "review"  # the pseudo-step after the last one: a summary, then finish

FieldKind = Literal["text", "textarea", "choice", "multi", "bool", "int", "date"]

# Slack markup that would ping people or channels, or links in disguise: never accepted as text
_MARKUP = re.compile(r"<[!@#]|<https?:|<mailto:", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Guidance:
    """Where a step's guidance comes from: a knowledge-base document and a words in the section
    (heading path) of the passage to quote."""

    source: str
    section: str


@dataclass(frozen=True)
class StepSpec:
    id: str
    title: str
    title_en: str
    fields: tuple[str, ...]
    guidance: Guidance | None = None
    when: Callable[[dict[str, Any]], bool] | None = None

    def applies(self, answers: dict[str, Any]) -> bool:
        return self.when is None or bool(self.when(answers))


@dataclass(frozen=True)
class FieldSpec:
    """How to ask for one field, read off the model."""

    name: str
    kind: FieldKind
    label: str
    label_en: str
    required: bool
    default: Any
    options: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class DialogSpec:
    id: str
    title: str
    title_en: str
    model: type[BaseModel]
    steps: tuple[StepSpec, ...]

    def __post_init__(self) -> None:
        names = [n for s in self.steps for n in s.fields]
        missing = set(self.model.model_fields) - set(names)
        if missing or len(names) != len(set(names)):
            raise ValueError(
                f"dialog {self.id}: every field in exactly one step ({sorted(missing)})"
            )

    def step(self, step_id: str) -> StepSpec:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def visible(self, answers: dict[str, Any]) -> list[StepSpec]:
        return [s for s in self.steps if s.applies(answers)]

    def next_step(self, current: str, answers: dict[str, Any]) -> str:
        ids = [s.id for s in self.steps]
        for s in self.steps[ids.index(current) + 1 :]:
            if s.applies(answers):
                return s.id
        return REVIEW

    def previous_step(self, current: str, answers: dict[str, Any]) -> str | None:
        visible = [s.id for s in self.visible(answers)]
        if current == REVIEW:
            return visible[-1] if visible else None
        ids = [s.id for s in self.steps]
        earlier = [s for s in self.steps[: ids.index(current)] if s.applies(answers)]
        return earlier[-1].id if earlier else None

    @cached_property
    def fields(self) -> dict[str, FieldSpec]:
        return {name: field_spec(name, info) for name, info in self.model.model_fields.items()}

    def step_model(self, step: StepSpec) -> type[BaseModel]:
        return _step_model(self.model, step.fields)

    def relevant(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers of the steps that apply (a skipped step's old answers are dropped)."""
        keep = {n for s in self.visible(answers) for n in s.fields}
        return {k: v for k, v in answers.items() if k in keep}


def _step_model(model: type[BaseModel], names: tuple[str, ...]) -> type[BaseModel]:
    key = (model, names)
    cached = _STEP_MODELS.get(key)
    if cached is None:
        definitions: dict[str, Any] = {
            n: (model.model_fields[n].annotation, model.model_fields[n]) for n in names
        }
        # the model's own field validators, for the fields of this step
        validators: dict[str, Any] = {}
        for name, decorator in model.__pydantic_decorators__.field_validators.items():
            fields = [f for f in decorator.info.fields if f in names]
            if fields:
                func = (
                    decorator.func.__func__
                    if hasattr(decorator.func, "__func__")
                    else decorator.func
                )
                validators[name] = field_validator(*fields, mode=decorator.info.mode)(
                    classmethod(func)
                )
        cached = create_model(
            f"{model.__name__}_{'_'.join(names)}"[:60], __validators__=validators, **definitions
        )
        _STEP_MODELS[key] = cached
    return cached


_STEP_MODELS: dict[tuple[type[BaseModel], tuple[str, ...]], type[BaseModel]] = {}


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    annotation = info.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if isinstance(annotation, types.UnionType) and len(args) == 1 else annotation
    kind: FieldKind
    if extra.get("kind") == "multi" or typing.get_origin(base) is list:
        kind = "multi"
    elif typing.get_origin(base) is Literal:
        kind = "choice"
    elif base is bool:
        kind = "bool"
    elif base is int:
        kind = "int"
    elif base is dt.date:
        kind = "date"
    elif extra.get("kind") == "textarea":
        kind = "textarea"
    else:
        kind = "text"
    raw_options = extra.get("options")
    options = (
        {str(k): str(v) for k, v in raw_options.items()} if isinstance(raw_options, dict) else {}
    )
    if not options and kind == "choice":
        options = {str(v): str(v) for v in typing.get_args(base)}
    default: Any = None
    if info.default is not PydanticUndefined:
        default = info.default
    elif info.default_factory is not None:
        default = info.default_factory()  # type: ignore[call-arg]
    limits = _limits(info)
    return FieldSpec(
        name=name,
        kind=kind,
        label=str(extra.get("label", name)),
        label_en=str(extra.get("label_en", extra.get("label", name))),
        required=info.is_required(),
        default=default,
        options=options,
        reason=str(extra["reason"]) if extra.get("reason") else None,
        max_length=limits.get("max_length"),
        minimum=limits.get("ge"),
        maximum=limits.get("le"),
    )


def _limits(info: FieldInfo) -> dict[str, int]:
    out: dict[str, int] = {}
    stack: list[Any] = list(info.metadata)
    for arg in typing.get_args(info.annotation):
        stack.extend(getattr(arg, "__metadata__", ()))
    for meta in stack:
        for attr in ("max_length", "ge", "le"):
            value = getattr(meta, attr, None)
            if isinstance(value, int) and attr not in out:
                out[attr] = value
    return out


# -- validation ---------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "入力してください。",
    "string_too_short": "入力してください。",
    "string_too_long": "{max_length}文字以内で入力してください。",
    "too_long": "選べるのは{max_length}個までです。",
    "int_parsing": "半角数字で入力してください。",
    "int_type": "半角数字で入力してください。",
    "int_from_float": "整数で入力してください。",
    "greater_than_equal": "{ge}以上の数を入力してください。",
    "less_than_equal": "{le}以下の数を入力してください。",
    "date_parsing": "存在する日付をYYYY-MM-DDの形式で入力してください（例：2027-04-01）。",
    "date_from_datetime_parsing": "存在する日付をYYYY-MM-DDの形式で入力してください（例：2027-04-01）。",
    "date_type": "存在する日付をYYYY-MM-DDの形式で入力してください（例：2027-04-01）。",
    "literal_error": "選択肢から選んでください。",
    "bool_parsing": "「はい」か「いいえ」で答えてください。",
    "bool_type": "「はい」か「いいえ」で答えてください。",
    "list_type": "選択肢から選んでください。",
}

GENERAL = "__all__"  # errors that belong to no single field


def message_of(error: Any) -> str:
    kind = str(error.get("type", ""))
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    template = _MESSAGES.get(kind, "入力を確認してください。")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return "入力を確認してください。"


def clean_text(value: Any) -> Any:
    """Free text: control characters removed, surrounding space trimmed; None for blank."""
    if not isinstance(value, str):
        return value
    text = _CONTROL.sub("", value).strip()
    return text or None


def check_markup(values: dict[str, Any]) -> dict[str, str]:
    return {
        k: "メンションやチャンネル通知、リンクの記法（<@…>、<!channel> など）は使えません。"
        for k, v in values.items()
        if isinstance(v, str) and _MARKUP.search(v)
    }


def validate_step(
    spec: DialogSpec, step: StepSpec, raw: dict[str, Any], earlier: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate one step's raw values: (clean values, errors by field name or GENERAL)."""
    given = {k: clean_text(raw.get(k)) for k in step.fields}
    # a blank optional field takes its default; a blank required one is reported missing
    given = {k: v for k, v in given.items() if v is not None and v != []}
    errors = check_markup(given)
    try:
        parsed = spec.step_model(step).model_validate(given)
    except ValidationError as e:
        for err in e.errors():
            loc = err.get("loc") or (GENERAL,)
            errors.setdefault(str(loc[0]), message_of(err))
    if errors:
        return {}, errors
    values = parsed.model_dump(mode="json")
    general = check_rules(spec, {**earlier, **values})
    if general:
        return {}, {GENERAL: general}
    return values, {}


def check_rules(spec: DialogSpec, answers: dict[str, Any]) -> str | None:
    """Run the model's own cross-field rules on the answers so far; a rule that needs a field not
    yet answered waits for it."""
    validators = spec.model.__pydantic_decorators__.model_validators.values()
    partial = spec.model.model_construct(**answers)
    for decorator in validators:
        if decorator.info.mode != "after":
            continue
        try:
            decorator.func(partial)
        except AttributeError:
            continue
        except ValueError as e:
            return str(e)
    return None


def validate_all(spec: DialogSpec, answers: dict[str, Any]) -> tuple[BaseModel | None, str | None]:
    try:
        return spec.model.model_validate(spec.relevant(answers)), None
    except ValidationError as e:
        first = e.errors()[0]
        loc = first.get("loc") or ()
        label = spec.fields[str(loc[0])].label if loc and str(loc[0]) in spec.fields else ""
        text = message_of(first)
        return None, f"{label}：{text}" if label else text


def mask_free_text(
    model: type[BaseModel], values: dict[str, Any], masker: Masker
) -> dict[str, Any]:
    """The values with the personal data typed into the model's free-text (textarea) fields
    masked ([EMAIL_1], [NAME_1]): a purpose, a reason or a description needs none, while the
    other fields (parties' names, address, dates) are kept as the document needs them."""
    out = dict(values)
    for name, info in model.model_fields.items():
        if isinstance(out.get(name), str) and field_spec(name, info).kind == "textarea":
            out[name] = masker.mask(out[name])
    return out

"""Free text to pre-filled dialog fields (LLM mode): "A社とNDAを3年で結びたい。目的は共同開発の
検討" becomes parties, term and purpose, through structured output into a partial copy of the
dialog's own model. Every value is validated by the dialog's own rules and shown to the user to
confirm or correct; offline, the dialog simply asks."""

from __future__ import annotations

import datetime as dt
import logging
import types
import typing
from typing import Any

from pydantic import BaseModel, Field, create_model

from bot.dialogs.spec import DialogSpec, validate_step
from bot.llm import prompts
from bot.llm.pii import Masker, PiiRefused, Policy, guard

log = logging.getLogger(__name__)

_PARTIALS: dict[type[BaseModel], type[BaseModel]] = {}


def partial_model(model: type[BaseModel]) -> type[BaseModel]:
    """The model with every field optional, null by default, without length constraints (some
    endpoints' structured output refuses them; the dialog's own validation checks afterwards)."""
    cached = _PARTIALS.get(model)
    if cached is None:
        fields: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            fields[name] = (
                _plain(info.annotation) | None,
                Field(default=None, description=str(extra.get("label", name))),
            )
        cached = create_model(f"{model.__name__}Prefill", **fields)
        _PARTIALS[model] = cached
    return cached


def _plain(annotation: Any) -> Any:
    """The type without Annotated constraints and without None; dates as text (an impossible
    date is then refused by the dialog's own validation, not by the parser of the whole reply)."""
    if annotation is dt.date:
        return str
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _plain(args[0])
    if isinstance(annotation, types.UnionType) and len(args) == 1:
        return _plain(args[0])
    return annotation


class Prefiller:
    def __init__(
        self, client: Any, model: str, policy: Policy, timeout_s: float | None = None
    ) -> None:
        self.client = (
            client if timeout_s is None else client.with_options(timeout=timeout_s, max_retries=0)
        )
        self.model = model
        self.policy = policy
        self._prompt = prompts.load("prefill")

    def values(self, spec: DialogSpec, text: str) -> dict[str, Any]:
        """Validated values found in the text ({} when nothing is, or on any problem)."""
        masker = Masker()
        try:
            [masked] = guard([text], self.policy, masker)
        except PiiRefused:
            return {}
        try:
            response = self.client.chat.completions.parse(
                model=self.model,
                temperature=0,
                messages=[
                    {"role": "system", "content": self._prompt.text},
                    {"role": "user", "content": f"書式：{spec.title}\n\n文章：\n{masked}"},
                ],
                response_format=partial_model(spec.model),
            )
            parsed = response.choices[0].message.parsed
        except Exception as e:
            log.warning("prefill failed: %s", type(e).__name__)
            return {}
        if parsed is None:
            return {}
        found = {
            k: masker.restore(v) if isinstance(v, str) else v
            for k, v in parsed.model_dump(mode="json").items()
            if v not in (None, "", [])
        }
        return _valid(spec, found)


def _valid(spec: DialogSpec, found: dict[str, Any]) -> dict[str, Any]:
    """Keep each value its step accepts on its own (one bad value does not drop the others)."""
    kept: dict[str, Any] = {}
    for step in spec.steps:
        for name in step.fields:
            if name not in found:
                continue
            single = type(step)(step.id, step.title, step.title_en, (name,))
            values, errors = validate_step(spec, single, {name: found[name]}, kept)
            if not errors:
                kept.update(values)
    return kept

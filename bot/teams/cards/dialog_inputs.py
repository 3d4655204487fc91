"""The inputs of a dialog step in a Teams card, by the field's kind (Input.Text, Input.ChoiceSet
compact or expanded, multi-select, Input.Toggle, Input.Number, Input.Date), pre-filled, each with
its error directly under it; and the submitted values read back as the engine takes them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from bot.dialogs.spec import DialogSpec, FieldSpec
from bot.teams.cards.base import (
    Element,
    attention,
    escape,
    plain,
    scaled,
    subtle,
    truncate,
)
from bot.teams.cards.texts import lang_of, text

FIELD_PREFIX = "field:"  # an input's id: FIELD_PREFIX + the field's name
EXPANDED_UP_TO = 5  # a choice with at most this many options shows them all
REASON_LIMIT = 400  # why a default is recommended
PREFILL_LIMIT = 2000  # a value put back into an input
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def field_label(f: FieldSpec, lang: str) -> str:
    return plain(f.label_en if lang == "en" else f.label)


def _choices(options: Mapping[str, str]) -> list[Element]:
    return [{"title": plain(label, 150), "value": str(value)} for value, label in options.items()]


def field_input(f: FieldSpec, value: Any, lang: str = "ja") -> Element:
    """The input for one field, pre-filled with `value` (the answer so far, the recommended
    default, or what was just submitted)."""
    lang = lang_of(lang)
    element: Element = {"id": FIELD_PREFIX + f.name, "label": field_label(f, lang)}
    required = f.required and f.kind not in ("multi", "bool")
    if f.kind in ("text", "textarea"):
        element["type"] = "Input.Text"
        if f.kind == "textarea":
            element["isMultiline"] = True
        if f.max_length:
            element["maxLength"] = f.max_length
        if value not in (None, ""):
            element["value"] = truncate(str(value), PREFILL_LIMIT)
    elif f.kind in ("choice", "multi"):
        element["type"] = "Input.ChoiceSet"
        element["choices"] = _choices(f.options)
        chosen = [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
        chosen = [v for v in chosen if v in f.options]
        if f.kind == "multi":
            element["isMultiSelect"] = True
            element["style"] = "expanded"
        else:
            many = len(f.options) > EXPANDED_UP_TO
            element["style"] = "compact" if many else "expanded"
            if many:
                element["placeholder"] = text("choose", lang)
            chosen = chosen[:1]
        if chosen:
            element["value"] = ",".join(chosen)
    elif f.kind == "bool" and f.default is None:
        # no recommended answer: an explicit Yes / No, never a toggle's silent "off"
        element["type"] = "Input.ChoiceSet"
        element["style"] = "expanded"
        element["choices"] = [
            {"title": text("yes", lang), "value": "true"},
            {"title": text("no", lang), "value": "false"},
        ]
        required = f.required
        if isinstance(value, bool) or value in ("true", "false"):
            element["value"] = str(value).lower()
    elif f.kind == "bool":
        element["type"] = "Input.Toggle"
        element["title"] = element.pop("label")  # beside the switch, not above it as well
        element["valueOn"], element["valueOff"] = "true", "false"
        element["value"] = "true" if value in (True, "true") else "false"
        element["wrap"] = True
    elif f.kind == "int":
        element["type"] = "Input.Number"
        if f.minimum is not None:
            element["min"] = f.minimum
        if f.maximum is not None:
            element["max"] = f.maximum
        number = _int(value)
        if number is not None:
            element["value"] = number
    else:  # date
        element["type"] = "Input.Date"
        day = value.isoformat() if isinstance(value, dt.date) else value
        if isinstance(day, str) and _ISO_DATE.match(day):
            element["value"] = day
    if required:
        element["isRequired"] = True
        element["errorMessage"] = text("required", lang)
    return element


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def field_elements(
    f: FieldSpec, value: Any, error: str | None, lang: str = "ja", scale: float = 1.0
) -> list[Element]:
    """A field's input, its error directly under it (in the attention colour), then why its
    default is recommended."""
    out = [field_input(f, value, lang)]
    if error:
        out.append(attention(escape(truncate(error, 300))))
    if f.reason:
        reason = escape(truncate(f.reason, scaled(REASON_LIMIT, scale)))
        out.append(subtle(text("recommended", lang_of(lang), reason=reason), spacing="Small"))
    return out


def dialog_values(spec: DialogSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """The values a step card submitted, by field name, as the engine takes them (a multiple
    choice as a list; everything else as the string Teams sent)."""
    out: dict[str, Any] = {}
    for key, raw in data.items():
        if not isinstance(key, str) or not key.startswith(FIELD_PREFIX):
            continue
        name = key.removeprefix(FIELD_PREFIX)
        f = spec.fields.get(name)
        if f is None:
            continue
        if f.kind == "multi":
            out[name] = (
                [v for v in str(raw or "").split(",") if v]
                if not isinstance(raw, list)
                else [str(v) for v in raw]
            )
        elif raw is None or isinstance(raw, str | int | float | bool):
            out[name] = raw if not isinstance(raw, float) else str(raw)
    return out

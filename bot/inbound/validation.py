"""Parsing a payload into the models of the shapes the app handles: what does not fit is
rejected with the payload's kind and the failing field's path, never its content."""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

# Field types shared by every platform's payload models. Lengths are the platforms' own limits
# (ids are short; a Slack callback_id or action_id is at most 255 characters), so nothing longer
# reaches a database column or a log line.
# an id as the platforms send them (Slack's are under 20 characters); the store's id columns are
# 40 wide, and composites of ids (slack:T…:U…) 100 to 200, so nothing longer reaches them
Id = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Name = Annotated[str, StringConstraints(max_length=255)]
Token = Annotated[str, StringConstraints(max_length=512)]  # trigger ids, hashes, view ids
Url = Annotated[str, StringConstraints(max_length=2048)]
Text = Annotated[str, StringConstraints(max_length=40_000)]  # a Slack message's maximum


class Payload(BaseModel):
    """A payload object: the fields the app reads are typed (strictly: a number is no string),
    the rest is kept as it came."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class Rejected(ValueError):
    """A payload that does not fit: `kind` names what it claimed to be, `field` where it broke."""

    def __init__(self, kind: str, field: str = "") -> None:
        super().__init__(f"{kind}: {field or 'shape'}")
        self.kind = kind
        self.field = field


M = TypeVar("M", bound=BaseModel)


def parse_as(model: type[M], data: object, kind: str) -> M:
    """The data as the model, or Rejected naming the first failing field (not its value)."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_input=False, include_url=False)
        where = ".".join(_safe(p) for p in errors[0]["loc"]) if errors else ""
        raise Rejected(kind, where[:120]) from None


_FIELD_NAME = re.compile(r"[A-Za-z_]{1,40}")


def _safe(part: object) -> str:
    """A path segment for a log line: a field name or an index, never a payload's own key
    (a block id, a value) that could carry text."""
    if isinstance(part, int) or (isinstance(part, str) and _FIELD_NAME.fullmatch(part)):
        return str(part)
    return "*"

"""Who decides: per risk level, ordered approval stages, each a set of people or groups (Slack
user ids U…, Slack user groups S…, Microsoft Entra (AAD) object ids of Teams users, or terminal
users terminal:NAME). High risk has two stages, so two different people approve. Kept in a YAML
file the admin edits (ITAKU_APPROVAL_POLICY)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Level = Literal["low", "medium", "high"]
GroupResolver = Callable[[str], frozenset[str]]  # a user group id -> its members' user ids
_OBJECT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def is_object_id(value: str) -> bool:
    """A Microsoft Entra (AAD) object id: how a Teams user is named in the policy."""
    return _OBJECT_ID.fullmatch(value) is not None


def approver_ids(value: list[str]) -> list[str]:
    """The approvers as written, object ids in lower case (as Teams sends them); a ValueError
    names the first entry that is none of the accepted forms."""
    out: list[str] = []
    for v in value:
        if is_object_id(v):
            out.append(v.lower())
        elif (v[:1] in ("U", "W", "S") and v[1:].isalnum()) or v.startswith("terminal:"):
            out.append(v)
        else:
            raise ValueError(
                f"承認者 {v!r} は Slack のユーザーID（U…）、ユーザーグループID（S…）、"
                "Microsoft Entra（AAD）のオブジェクトID（Teams のユーザー、"
                "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx）、terminal:名前 のいずれかで書いてください"
            )
    return out


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    approvers: list[str] = Field(min_length=1)

    @field_validator("approvers")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        return approver_ids(value)


class LevelPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stages: list[Stage] = Field(min_length=1, max_length=5)


class ApprovalPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str | None = Field(default=None, description="Slack channel id for new requests")
    remind_after_hours: float = Field(default=24, gt=0)
    escalate_after_hours: float = Field(default=72, gt=0)
    escalation: list[str] = Field(default_factory=list)
    levels: dict[Level, LevelPolicy]

    @field_validator("escalation")
    @classmethod
    def _escalation_ids(cls, value: list[str]) -> list[str]:
        return approver_ids(value)

    @field_validator("levels")
    @classmethod
    def _all_levels(cls, value: dict[Level, LevelPolicy]) -> dict[Level, LevelPolicy]:
        missing = {"low", "medium", "high"} - set(value)
        if missing:
            raise ValueError(f"levels に {sorted(missing)} がありません")
        return value

    @classmethod
    def load(cls, path: Path) -> ApprovalPolicy:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return cls.model_validate(data)
        except (OSError, yaml.YAMLError, ValidationError) as e:
            raise ValueError(f"承認ポリシー {path} を読めません: {e}") from e

    def stages(self, level: str) -> list[Stage]:
        return self.levels[level].stages  # type: ignore[index]

    def members(self, entries: list[str], resolve: GroupResolver | None) -> frozenset[str]:
        people: set[str] = set()
        for entry in entries:
            if entry.startswith("S") and not entry.startswith("terminal:"):
                people |= resolve(entry) if resolve is not None else frozenset()
            else:
                people.add(entry)
        return frozenset(people)

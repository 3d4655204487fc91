"""Prompts are files in prompts/, versioned with the code: a front-matter block (name, version)
and the text, with {placeholders} filled here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import project_file

PROMPTS_DIR = project_file("prompts")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    text: str

    def fill(self, **values: str) -> str:
        return self.text.format(**values) if values else self.text


@lru_cache(maxsize=16)
def load(name: str, folder: Path = PROMPTS_DIR) -> Prompt:
    raw = (folder / f"{name}.md").read_text(encoding="utf-8")
    _, head, body = raw.split("---", 2)
    meta = yaml.safe_load(head) or {}
    return Prompt(str(meta.get("name", name)), int(meta.get("version", 1)), body.strip())

"""Finished drafts as files: what every platform hands the user (Slack uploads them to a DM,
the terminal writes them to a folder)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.drafting.clauses import ClauseLibrary
from bot.drafting.docx_render import to_docx
from bot.drafting.nda import build_nda, to_markdown
from bot.drafting.nda_fields import NdaAnswers

_UNSAFE = re.compile(r"[\\/:*?\"<>|\s\x00-\x1f]+")


@dataclass(frozen=True)
class DraftFiles:
    title: str
    basename: str  # a file name without extension, safe on every OS
    markdown: str
    docx: bytes
    summary: tuple[tuple[str, str], ...]
    notice: str


def safe_name(text: str, limit: int = 40) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:limit] or "draft"


def nda_files(answers: NdaAnswers, library: ClauseLibrary) -> DraftFiles:
    draft = build_nda(answers, library)
    basename = f"NDA_{safe_name(answers.receiving_party)}_{answers.effective_date.isoformat()}"
    return DraftFiles(
        title=draft.title,
        basename=basename,
        markdown=to_markdown(draft),
        docx=to_docx(draft),
        summary=draft.summary,
        notice=draft.notice,
    )

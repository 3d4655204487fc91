"""Plain-text rendering of answers for the terminal (pure functions)."""

from __future__ import annotations

from bot.assistant.models import Answer


def render_answer(answer: Answer) -> str:
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.append("出典 / Sources:" if answer.lang == "en" else "出典:")
        for c in answer.citations:
            where = f"{c.title}" + (f" — {c.section}" if c.section else "")
            lines.append(
                f"[{c.n}] {where} ({c.source}{', ' + c.as_of + '時点' if c.as_of else ''})"
            )
    return "\n".join(lines)

"""Clauses in Teams, as bot/slack/clause_blocks.py shows them in Slack: a filled clause (quoted,
with its explanation, its source and the values used), the list of topics, and an error that
names the topics. The clause text holds the user's values: it is escaped like any other text."""

from __future__ import annotations

from bot.drafting.clauses import ClauseTemplate, FilledClause
from bot.teams.cards.base import (
    Card,
    Element,
    attention,
    card,
    escape,
    fit,
    heading,
    one_line,
    scaled,
    subtle,
    text_block,
    truncate,
)
from bot.teams.cards.texts import text

CLAUSE_LIMIT = 8000  # characters of clause text at full size
TOPIC_LIMIT = 60


def clause_card(filled: FilledClause, command: str = "clause") -> Card:
    """The clause quoted paragraph by paragraph, why it matters, where it comes from, and the
    values used (with how to change them: `command` is how the adapter takes clause requests)."""
    t = filled.template

    def build(scale: float) -> Card:
        clause = truncate(filled.text, scaled(CLAUSE_LIMIT, scale))
        quoted: list[Element] = [
            text_block(escape(line), spacing="Small") for line in clause.split("\n") if line.strip()
        ]
        body: list[Element] = [
            heading(f"{one_line(t.topic)}（{one_line(t.title)}）"),
            {"type": "Container", "style": "emphasis", "items": quoted},
            text_block(escape(truncate(t.explanation, scaled(1000, scale))), size="Small"),
        ]
        refs = "、".join(one_line(r) for r in t.references[:3])
        body.append(subtle(f"出典：{escape(t.source)}" + (f"（{refs}）" if refs else "")))
        if t.params:
            used = "、".join(
                f"{escape(p.name)}={one_line(truncate(filled.values.get(p.name, p.default), 200))}"
                f"（{escape(p.label)}）"
                for p in t.params
            )
            how = f"「{escape(command)} {one_line(t.topic)} キー=値」で変えられます。"
            body.append(subtle(f"使った値：{used}。{how}", spacing="Small"))
        return card(body, fallback_text=f"{t.topic}（{t.title}）")

    return fit(build, text("too_large", "ja"))


def clause_topics_card(topics: list[ClauseTemplate], command: str = "clause") -> Card:
    """Every clause topic with its explanation."""

    def build(scale: float) -> Card:
        body: list[Element] = [
            heading("条項のトピック"),
            subtle(f"「{escape(command)} トピック キー=値 …」で条文を作ります。"),
        ]
        body += [
            text_block(
                f"**{one_line(t.topic)}**：{escape(truncate(t.explanation, scaled(300, scale)))}",
                spacing="Small",
                size="Small",
            )
            for t in topics[:TOPIC_LIMIT]
        ]
        return card(body)

    return fit(build, text("too_large", "ja"))


def clause_error_card(message: str, topics: list[ClauseTemplate]) -> Card:
    """What was wrong with a clause request, and the topics there are."""
    names = "、".join(one_line(t.topic) for t in topics[:TOPIC_LIMIT])
    return fit(
        lambda scale: card(
            [
                attention(escape(truncate(message, scaled(1000, scale)))),
                subtle(f"トピック：{names}"),
            ]
        ),
        text("too_large", "ja"),
    )

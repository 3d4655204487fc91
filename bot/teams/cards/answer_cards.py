"""The answer card: the answer, its numbered sources (title – section, as-of date, a link when
the source has one), a note that the sources are Japanese for an English answer, and Helpful /
Not helpful. A refusal is the same card without sources. (The "preparing an answer" placeholder
is no card: the adapter sends a typing activity.)"""

from __future__ import annotations

from bot.assistant.models import Answer, Citation
from bot.teams.cards.base import (
    Card,
    Element,
    card,
    escape,
    fit,
    link,
    scaled,
    subtle,
    text_block,
    truncate,
)
from bot.teams.cards.texts import lang_of, text

VOTE_VERB = "itaku.vote"

ANSWER_LIMIT = 6000  # characters of answer text at full size
CITATION_LIMIT = 300  # characters of one source line at full size
MAX_CITATIONS = 20


def citation_line(c: Citation, scale: float = 1.0) -> str:
    """ "[n] title – section – as-of", the title a link when the source has an http(s) URL."""
    title = escape(truncate(c.title, scaled(CITATION_LIMIT, scale))) or "—"
    parts = [f"[{c.n}] {link(title, c.url)}"]
    if c.section:
        parts.append(escape(truncate(c.section, scaled(CITATION_LIMIT, scale))))
    if c.as_of:
        parts.append(escape(truncate(c.as_of, 40)))
    return " – ".join(parts)


def vote_actions(answer_id: str, lang: str) -> list[Element]:
    return [
        {
            "type": "Action.Execute",
            "title": text(key, lang),
            "verb": VOTE_VERB,
            "data": {"answer_id": answer_id, "helpful": helpful},
        }
        for key, helpful in (("helpful", True), ("unhelpful", False))
    ]


def answer_card(
    answer: Answer, lang: str | None, answer_id: str, *, voted: bool | None = None
) -> Card:
    """The answer with its sources and the vote buttons; once `voted` (True: helpful), the
    thanks instead of the buttons (the card the adapter returns to itaku.vote)."""
    lang = lang_of(lang or answer.lang)
    citations = [] if answer.abstained else answer.citations[:MAX_CITATIONS]

    def build(scale: float) -> Card:
        body: list[Element] = [
            text_block(escape(truncate(answer.answer.strip(), scaled(ANSWER_LIMIT, scale))))
        ]
        if citations:
            body.append(
                text_block(text("sources", lang), weight="Bolder", separator=True, spacing="Medium")
            )
            body += [
                text_block(citation_line(c, scale), spacing="Small", size="Small")
                for c in citations
            ]
            if lang == "en":
                body.append(subtle(text("sources_in_japanese", lang), spacing="Small"))
        actions: list[Element] = []
        if voted is None:
            actions = vote_actions(answer_id, lang)
        else:
            thanks = "thanks_helpful" if voted else "thanks_unhelpful"
            body.append(subtle(text(thanks, lang), spacing="Medium"))
        return card(body, actions, fallback_text=answer.answer, full_width=True)

    return fit(build, text("too_large", lang))


def refusal_card(answer: Answer, lang: str | None, answer_id: str) -> Card:
    """An answer the assistant declined to give (the knowledge base does not cover it): the
    core's own words, as Slack shows them, with no sources, and the vote buttons (a refusal is
    feedback the curators want too)."""
    return answer_card(answer.model_copy(update={"citations": []}), lang, answer_id)

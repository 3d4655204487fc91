"""Pure Block Kit builders: plain data in, JSON-ready dicts out (no Slack client, no I/O)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.assistant.models import Answer, Citation
from bot.slack import ids
from bot.slack.texts import EXAMPLES, text

Block = dict[str, Any]

SECTION_LIMIT = 3000  # characters of text in one section block
FALLBACK_LIMIT = 300  # the notification text


def escape(value: str) -> str:
    """Slack mrkdwn control characters; user and document text must never form links or
    mentions by accident."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SHORTCODE = re.compile(r":([A-Za-z0-9_+\-]+):")
_FORMATTING = str.maketrans({"*": "＊", "_": "＿", "~": "～", "`": "｀"})


def literal(value: str) -> str:
    """A person's own text (a request's fields, a reason) as it may appear in a card: on one
    line, with no bold, italics, strike-through, code, emoji or links, so that it can never
    imitate the card's own state lines (「:white_check_mark: *承認済み*」 typed into a reason)."""
    flat = " / ".join(part.strip() for part in value.splitlines() if part.strip())
    flat = "".join(ch for ch in flat if unicodedata.category(ch) not in ("So", "Sk", "Cs"))
    flat = _SHORTCODE.sub(r"：\1：", flat).translate(_FORMATTING)
    return escape(flat)


def _safe_url(url: str | None) -> str | None:
    if not url or not url.startswith(("https://", "http://")):
        return None
    if any(c in url for c in "|<> \n"):
        return None
    return url


def sections(body: str) -> list[Block]:
    """Split long text into section blocks at line boundaries (each within Slack's limit)."""
    blocks: list[Block] = []
    current = ""
    for line in body.split("\n"):
        while len(line) > SECTION_LIMIT:
            if current:
                blocks.append(section(current))
                current = ""
            blocks.append(section(line[:SECTION_LIMIT]))
            line = line[SECTION_LIMIT:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_LIMIT:
            blocks.append(section(current))
            current = line
        else:
            current = candidate
    if current.strip():
        blocks.append(section(current))
    return blocks


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:SECTION_LIMIT]}}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn[:SECTION_LIMIT]}]}


def citation_line(c: Citation) -> str:
    title = escape(c.title)
    url = _safe_url(c.url)
    head = f"<{url}|{title}>" if url else f"*{title}*"
    parts = [f"[{c.n}] {head}"]
    if c.section:
        parts.append(escape(c.section))
    if c.as_of:
        parts.append(escape(c.as_of))
    line = " — ".join(parts)
    return f"{line}\n      `{escape(c.source)}`"


def button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def fallback(answer: Answer) -> str:
    body = answer.answer.strip().replace("\n", " ")
    return body if len(body) <= FALLBACK_LIMIT else body[: FALLBACK_LIMIT - 1] + "…"


def answer_blocks(
    answer: Answer,
    answer_id: str,
    *,
    shareable: bool = False,
    shared_by: str | None = None,
    with_text: bool = True,
) -> list[Block]:
    """The answer, its numbered sources and the buttons (without the text when it was streamed
    into the message already)."""
    lang = answer.lang if answer.lang in ("ja", "en") else "ja"
    blocks = sections(escape(answer.answer)) if with_text else []
    if answer.citations:
        lines = [f"*{text('sources', lang)}*", *(citation_line(c) for c in answer.citations)]
        blocks.extend(sections("\n".join(lines)))
    if shared_by:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": text("shared_by", lang, user=shared_by)}],
            }
        )
    buttons = [
        button(text("helpful", lang), ids.VOTE_HELPFUL, answer_id),
        button(text("unhelpful", lang), ids.VOTE_UNHELPFUL, answer_id),
    ]
    if shareable:
        buttons.append(button(text("share", lang), ids.SHARE_ANSWER, answer_id, "primary"))
    blocks.append({"type": "actions", "block_id": f"itaku_answer_{answer_id}", "elements": buttons})
    return blocks[:50]  # Slack's limit per message


def notice_blocks(message: str) -> list[Block]:
    return [section(message)]


def help_blocks() -> list[Block]:
    """Japanese first, then the same in short English (help is not a question with a language)."""
    out: list[Block] = []
    for lang in ("ja", "en"):
        examples = "\n".join(f"• {escape(q)}" for q in EXAMPLES[lang])
        if out:
            out.append({"type": "divider"})
        out += [
            section(text("intro", lang)),
            section(text("how_to", lang)),
            section(f"{text('examples_title', lang)}\n{examples}"),
        ]
    return out


def home_view(lang: str = "ja") -> Block:
    other = "en" if lang == "ja" else "ja"
    examples = "\n".join(f"• {escape(q)}" for q in EXAMPLES[lang] + EXAMPLES[other][:1])
    return {
        "type": "home",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": text("home_title", lang), "emoji": True},
            },
            section(text("intro", lang)),
            {"type": "divider"},
            section(text("topics", lang)),
            section(f"{text('examples_title', lang)}\n{examples}"),
            {"type": "divider"},
            section(text("how_to", lang)),
        ],
    }

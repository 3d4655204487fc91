"""What every Teams card is built from: the one escape helper for text that may hold someone's
words, safe links, TextBlocks, the AdaptiveCard and attachment wrappers, and the size rule (a
card is built again with shorter texts until it fits well under Teams' ~28 KB)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Element = dict[str, Any]
Card = dict[str, Any]  # an AdaptiveCard object (the attachment's `content`)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"

# Teams refuses a message over about 28 KB. A card is measured as the largest likely wire form
# (json.dumps' defaults: every non-ASCII character as a 6-byte \uXXXX escape) and must leave room
# for the activity around it.
MAX_MESSAGE_BYTES = 28 * 1024
CARD_BUDGET = 24 * 1024
SCALES = (1.0, 0.6, 0.35, 0.2, 0.1, 0.05)  # the text limits tried, in turn, until a card fits

# markdown that a TextBlock would render, as look-alikes that render as themselves (the same
# rule as Slack's `literal`; backslash escapes are not honoured alike by every Teams client)
_MARKDOWN = str.maketrans(
    {
        "*": "＊",
        "_": "＿",
        "~": "～",
        "`": "｀",
        "[": "［",
        "]": "］",
        "<": "＜",
        ">": "＞",
        "\\": "＼",
    }
)
_HEADING = re.compile(r"^(\s*)#", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r" {2,}")
_KEPT_FORMAT = {"\u200c", "\u200d"}  # joiners (emoji sequences, Indic scripts)


def clean(value: object) -> str:
    """Text with no control characters, no invisible format characters (bidi overrides that
    reorder what is read) and no lone surrogates; line ends as \\n."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text.replace("\t", " "))
    return "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in ("Cf", "Cs", "Co") or ch in _KEPT_FORMAT
    )


def escape(value: object) -> str:
    """THE helper for any text that is not Itaku's own (a person's words, a document's text, a
    title): cleaned, markdown metacharacters as look-alikes (so nothing becomes bold, a link, a
    mention tag or a heading), and each line its own paragraph (a TextBlock joins single line
    breaks)."""
    lines = [line.rstrip() for line in clean(value).translate(_MARKDOWN).split("\n")]
    text = "\n\n".join(line for line in lines if line.strip())
    return _HEADING.sub(r"\1＃", text)


def one_line(value: object) -> str:
    """A person's own short text (a title, a name, a reason, an answer in a summary) on one
    line, without pictographs, escaped: it can never imitate the card's own state lines."""
    flat = " / ".join(part.strip() for part in clean(value).split("\n") if part.strip())
    flat = "".join(_no_pictograph(ch) for ch in flat)
    return escape(_SPACES.sub(" ", flat).strip())


def _no_pictograph(ch: str) -> str:
    if unicodedata.category(ch) not in ("So", "Sk"):
        return ch
    folded = unicodedata.normalize("NFKC", ch)  # ㈱ is (株), ① stays a number
    return folded if folded != ch and folded.isprintable() else ""


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    limit = max(limit, 1)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def scaled(limit: int, scale: float, floor: int = 40) -> int:
    return max(int(limit * scale), min(limit, floor))


def plain(value: object, limit: int = 200) -> str:
    """Text for a field Teams shows as it is (a label, a button, a choice, a title): cleaned,
    on one line, within `limit`."""
    flat = " ".join(part.strip() for part in clean(value).split("\n") if part.strip())
    return truncate(flat, limit)


def safe_url(url: object) -> str | None:
    """An http(s) URL fit to stand in a markdown link, else None: nothing else may become a
    link (javascript:, data:, a bare word)."""
    if not isinstance(url, str) or len(url) > 2000:
        return None
    if _CONTROL.search(url) or any(c in url for c in ' <>"\\`\n') or clean(url) != url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.replace("(", "%28").replace(")", "%29").replace("[", "%5B").replace("]", "%5D")


def link(label_markdown: str, url: object) -> str:
    """`label_markdown` (already escaped) as a link when `url` is a safe http(s) URL."""
    target = safe_url(url)
    return f"[{label_markdown}]({target})" if target else label_markdown


# -- elements ------------------------------------------------------------------------------------


def text_block(text: str, **props: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def heading(text: str) -> Element:
    return text_block(text, style="heading", weight="Bolder", size="Medium")


def subtle(text: str, **props: Any) -> Element:
    return text_block(text, **{"isSubtle": True, "size": "Small", "spacing": "None", **props})


def attention(text: str) -> Element:
    return text_block(text, color="Attention", spacing="Small")


def card(
    body: list[Element],
    actions: list[Element] | None = None,
    *,
    refresh: Element | None = None,
    fallback_text: str | None = None,
    full_width: bool = False,
) -> Card:
    """An AdaptiveCard (schema 1.5, the version Universal Actions need)."""
    out: Card = {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": VERSION, "body": body}
    if actions:
        out["actions"] = actions
    if refresh is not None:
        out["refresh"] = refresh
    if fallback_text:
        out["fallbackText"] = truncate(escape(plain(fallback_text, 300)), 300)
    if full_width:
        out["msteams"] = {"width": "Full"}
    return out


def attachment(content: Card) -> Element:
    """A card as a message attachment (what an activity's `attachments` and a task module's
    `card` take)."""
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


# -- size ----------------------------------------------------------------------------------------


def size_of(content: Any) -> int:
    """Bytes of the card's largest likely wire form."""
    return len(json.dumps(content).encode("utf-8"))


def fit(build: Callable[[float], Card], too_large: str) -> Card:
    """The card built with the longest texts that keep it within the budget; a card that
    cannot fit even with the shortest says so (`too_large`) instead of being refused by Teams."""
    for scale in SCALES:
        built = build(scale)
        if size_of(built) <= CARD_BUDGET:
            return built
    return card([text_block(too_large, color="Attention")])

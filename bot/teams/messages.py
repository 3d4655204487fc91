"""What the Teams adapter says outside its cards (help, failures), in Japanese and English."""

from __future__ import annotations

from bot.assistant import messages

_TEXTS: dict[str, dict[str, str]] = {
    "help": {
        "ja": (
            "Itaku は委託先の情報管理（選定、契約、監査、再委託、漏えい、NDA、個人情報保護法）について、"
            "ナレッジベースの出典つきで答えます。\n\n"
            "- 質問をそのまま書く（チャネルでは @Itaku をつけて）、または `ask 質問`\n"
            "- `nda`：秘密保持契約書のドラフトを作る\n"
            "- `subcontract`：再委託の承認申請を出す\n"
            "- `clause 条項名`：契約条項のひな形\n"
            "- `requests`：自分の申請と、自分の判断を待つ申請\n"
            "- `help`：この案内"
        ),
        "en": (
            "Itaku answers questions on keeping contractors from leaking your information "
            "(selection, contracts, audits, subcontracting, breaches, NDAs, Japan's APPI), citing "
            "its knowledge base.\n\n"
            "- Ask in your own words (in a channel, @mention Itaku), or `ask QUESTION`\n"
            "- `nda`: draft a non-disclosure agreement\n"
            "- `subcontract`: file a subcontracting approval request\n"
            "- `clause NAME`: a contract clause template\n"
            "- `requests`: your requests, and those waiting for your decision\n"
            "- `help`: this message"
        ),
    },
    "expired": {
        "ja": "この操作は期限切れか、すでに処理されています。",
        "en": "This action has expired or was already handled.",
    },
}


def text(key: str, lang: str) -> str:
    """A Teams text; those shown around every answer (failed…) are the core's."""
    entry = _TEXTS.get(key)
    if entry is None:
        return messages.text(key, lang)
    return entry.get(lang) or entry["ja"]

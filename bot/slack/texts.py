"""Interface texts of the Slack app (Japanese by default, English for English questions)."""

from __future__ import annotations

from bot.assistant import messages

TEXTS: dict[str, dict[str, str]] = {
    "placeholder": {
        "ja": ":hourglass_flowing_sand: 回答を準備しています…",
        "en": ":hourglass_flowing_sand: Preparing an answer…",
    },
    "share": {"ja": "チャンネルに共有", "en": "Share in channel"},
    "shared_by": {"ja": "<@{user}> さんが共有しました", "en": "Shared by <@{user}>"},
    "unknown_command": {
        "ja": "`{command}` はItakuのコマンドではありません。`/itaku help` で使い方を表示します。",
        "en": "`{command}` is not an Itaku command. Try `/itaku help`.",
    },
    "too_large": {
        "ja": "入力が大きすぎるため処理できません。質問を短くしてください。",
        "en": "The input is too large. Please shorten the question.",
    },
    "intro": {
        "ja": (
            "*Itaku* は、委託先（外部委託・再委託）の情報セキュリティについて、"
            "社内のナレッジベースから出典付きで答えるアシスタントです。"
            "ナレッジベースにないことは推測せず、「わからない」とお答えします。"
        ),
        "en": (
            "*Itaku* answers questions about contractors' information security from the company's "
            "knowledge base, with its sources. When the knowledge base does not cover a question, "
            "it says so instead of guessing."
        ),
    },
    "how_to": {
        "ja": (
            "*使い方*\n"
            "• DMで質問する、またはチャンネルで @Itaku とメンションする（回答はスレッドに届きます。"
            "同じスレッドで続けて質問できます）\n"
            "• `/itaku 質問` ：自分だけに見える形で回答します（チャンネルに共有ボタン付き）\n"
            "• `/itaku help` ：この説明を表示します\n"
            "• 回答の「役に立った／役に立たなかった」ボタンで、ナレッジベースの改善にご協力ください"
        ),
        "en": (
            "*How to use*\n"
            "• DM me, or @mention me in a channel: the answer arrives in the thread, and follow-up "
            "questions in that thread are understood in context\n"
            "• `/itaku QUESTION`: a private answer, with a button to share it in the channel\n"
            "• `/itaku help`: this help\n"
            "• Vote Helpful / Not helpful on answers to help improve the knowledge base"
        ),
    },
    "topics": {
        "ja": (
            "*答えられること*\n委託先の選定と評価・契約に入れるべき条項・監査と点検・"
            "再委託（再々委託）の承認・NDA（秘密保持契約）・漏えい時の対応と報告期限・"
            "個人情報保護法やマイナンバー法などの法令"
        ),
        "en": (
            "*Topics*\nChoosing and assessing contractors, contract clauses, audits, subcontracting "
            "approval, NDAs, breach response and reporting deadlines, and the law (APPI, My Number Act)"
        ),
    },
    "examples_title": {"ja": "*質問の例*", "en": "*Example questions*"},
    "home_title": {
        "ja": "Itaku：委託先管理アシスタント",
        "en": "Itaku: contractor security assistant",
    },
}

EXAMPLES: dict[str, list[str]] = {
    "ja": [
        "再委託を認める条件は？",
        "委託先で個人データが漏えいしたら、いつまでに報告が必要？",
        "委託先の選定で確認すべきことは？",
        "NDAに入れるべき条項は？",
    ],
    "en": [
        "What must we check before approving a subcontractor?",
        "When must a data breach at a contractor be reported?",
    ],
}


def text(key: str, lang: str, **kwargs: object) -> str:
    """A Slack text; the ones every platform shows around an answer are the core's."""
    entry = TEXTS.get(key)
    if entry is None:
        return messages.text(key, lang, **kwargs)
    template = entry.get(lang) or entry["ja"]
    return template.format(**kwargs) if kwargs else template

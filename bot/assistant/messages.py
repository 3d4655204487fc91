"""User-facing texts of the core, in Japanese and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "empty": {
        "ja": "質問が空です。委託先の管理について知りたいことを入力してください（例：「再委託の条件は？」）。",
        "en": 'The question is empty. Ask about managing contractors, e.g. "What must a subcontracting request contain?"',
    },
    "not_found": {
        "ja": (
            "ナレッジベースには、この質問に答えられる情報が見つかりませんでした。推測ではお答えしません。"
            "社内の情報セキュリティ担当部門または法務部門にご相談ください。"
            "委託先の選定、契約、監査、再委託、NDA、漏えい時の対応、個人情報保護法などについてはお答えできます。"
        ),
        "en": (
            "The knowledge base has nothing that answers this question, and I will not guess. "
            "Please ask your information security or legal team. I can answer questions about choosing "
            "contractors, contract clauses, audits, subcontracting, NDAs, breach response and the APPI."
        ),
    },
    "no_topic": {
        "ja": (
            "ご質問の内容を読み取れませんでした。委託先の管理について、具体的にお尋ねください"
            "（例：「委託先で漏えいが起きたら、いつまでに報告が必要？」）。"
        ),
        "en": (
            "I could not find a question about contractor security in that. Please ask something specific, "
            'e.g. "When must a breach at a contractor be reported?"'
        ),
    },
    "other_script": {
        "ja": "日本語または英語でご質問ください。",
        "en": "Please ask in Japanese or English.",
    },
    "too_long": {
        "ja": "質問が長すぎるため、先頭の{limit}文字だけを使って回答しました。",
        "en": "The question was too long; only its first {limit} characters were used.",
    },
    "no_index": {
        "ja": "ナレッジベースがまだ索引されていません。`itaku index` を実行してください。",
        "en": "The knowledge base has not been indexed yet. Run `itaku index`.",
    },
    # around every answer, whatever the platform
    "sources": {"ja": "出典", "en": "Sources"},
    "helpful": {"ja": "役に立った", "en": "Helpful"},
    "unhelpful": {"ja": "役に立たなかった", "en": "Not helpful"},
    "thanks_helpful": {
        "ja": "フィードバックありがとうございます。",
        "en": "Thank you for the feedback.",
    },
    "thanks_unhelpful": {
        "ja": "フィードバックありがとうございます。ナレッジベースの改善に使わせていただきます。",
        "en": "Thank you. This question goes to the people who curate the knowledge base.",
    },
    "answer_gone": {
        "ja": "この回答は見つかりませんでした（古い回答か、削除されたものです）。",
        "en": "This answer could not be found (it is old or was removed).",
    },
    "failed": {
        "ja": "申し訳ありません。回答の作成中に問題が起きました。少し時間をおいてもう一度お試しください。",
        "en": "Sorry, something went wrong while preparing the answer. Please try again shortly.",
    },
    "en_preface": {
        "ja": "",
        "en": "From the (Japanese) knowledge base:",
    },
}


def text(key: str, lang: str, **kwargs: object) -> str:
    entry = TEXTS[key]
    template = entry.get(lang) or entry["ja"]
    return template.format(**kwargs) if kwargs else template

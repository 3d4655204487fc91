"""Interface texts of the Teams cards (ja/en). The answer texts that Slack shows too (sources,
Helpful / Not helpful, thanks) are the core's (bot/assistant/messages.py); these are the
ones only Teams cards need."""

from __future__ import annotations

from bot.assistant.messages import text as shared_text

TEXTS: dict[str, dict[str, str]] = {
    "sources_in_japanese": {
        "ja": "",
        "en": "The sources are Japanese documents; the answer was written from them in English.",
    },
    "too_large": {
        "ja": "内容が大きすぎるため、Teamsのカードに表示できません。",
        "en": "This is too large to show in a Teams card.",
    },
    # dialogs
    "step": {"ja": "ステップ {n}/{total}：{title}", "en": "Step {n}/{total}: {title}"},
    "resumed": {
        "ja": "前回の続きから再開しました（最初からやり直すには「new」を付けて始めてください）。",
        "en": "Resumed where you left off (start with “new” to begin again).",
    },
    "guidance_source": {"ja": "出典：{source}", "en": "Source: {source}"},
    "recommended": {"ja": "推奨の理由：{reason}", "en": "Why this is recommended: {reason}"},
    "required": {"ja": "入力してください。", "en": "Please fill this in."},
    "yes": {"ja": "はい", "en": "Yes"},
    "no": {"ja": "いいえ", "en": "No"},
    "choose": {"ja": "選んでください", "en": "Choose"},
    "next": {"ja": "次へ", "en": "Next"},
    "back": {"ja": "← 戻る", "en": "← Back"},
    "review_title": {"ja": "内容の確認", "en": "Review"},
    "review_lead": {"ja": "次の内容で作成します。", "en": "This is what will be created."},
    "edit": {"ja": "変更する", "en": "Change"},
    "finish": {"ja": "作成する", "en": "Create"},
    "draft_notice": {
        "ja": "作成した文書は法務部門のレビュー前のドラフトです。",
        "en": "The document is a draft until the legal team has reviewed it.",
    },
    "open_dialog": {"ja": "入力を始める", "en": "Start"},
    "resume_dialog": {"ja": "続きから入力する", "en": "Continue"},
    "edit_draft": {"ja": "編集する", "en": "Edit"},
    "draft_summary": {"ja": "{title}：選んだ内容", "en": "{title}: what you chose"},
    "close": {"ja": "閉じる", "en": "Close"},
    # approvals
    "request_head": {"ja": "再委託の承認申請 {id}", "en": "Subcontracting request {id}"},
    "requester": {"ja": "申請者：{who}", "en": "Requested by {who}"},
    "revision": {"ja": "（第{n}版）", "en": " (revision {n})"},
    "waiting_for": {"ja": "判断待ち：{stage}（{who}）", "en": "Waiting for: {stage} ({who})"},
    "risk": {"ja": "リスク：{level}（{score}点）", "en": "Risk: {level} ({score} points)"},
    "content": {"ja": "申請内容", "en": "Request"},
    "decisions": {"ja": "判断の記録", "en": "Decisions"},
    "decided": {"ja": "{who} さんが{outcome}しました", "en": "{who}: {outcome}"},
    "next_stage": {"ja": "次は {stage} の判断です（{who}）。", "en": "Next: {stage} ({who})."},
    "all_approved": {
        "ja": "すべての段階で承認され、申請は承認済みになりました。",
        "en": "Approved at every stage: the request is approved.",
    },
    "was_rejected": {"ja": "申請は却下されました。", "en": "The request was rejected."},
    "changes_wanted": {
        "ja": "申請者の修正と再提出を待っています。",
        "en": "Waiting for the requester to revise and resubmit.",
    },
    "approve": {"ja": "承認", "en": "Approve"},
    "reject": {"ja": "却下", "en": "Reject"},
    "revise": {"ja": "差戻し", "en": "Request changes"},
    "reason_label": {
        "ja": "{outcome}の理由（申請者に伝わります）",
        "en": "Reason (the requester will see it)",
    },
    "reason_missing": {"ja": "理由を入力してください。", "en": "Please give a reason."},
    "confirm": {"ja": "{outcome}する", "en": "{outcome}"},
    "refresh": {"ja": "最新の状態を表示", "en": "Refresh"},
    "my_requests": {"ja": "あなたの再委託申請", "en": "Your subcontracting requests"},
    "no_requests": {"ja": "まだ申請はありません。", "en": "No requests yet."},
    "waiting_mine": {
        "ja": "あなたの判断を待っている申請",
        "en": "Requests waiting for your decision",
    },
    "nothing_waiting": {
        "ja": "あなたの判断を待っている申請はありません。",
        "en": "Nothing is waiting for your decision.",
    },
    "more": {"ja": "ほか{n}件", "en": "{n} more"},
    "risk_short": {"ja": "リスク{level}", "en": "risk {level}"},
    "file_description": {
        "ja": "Itakuが作成した文書（Word）です。許可するとOneDriveに保存され、このチャットに届きます。",
        "en": "A document Itaku drafted (Word). Allow it to be saved to your OneDrive and sent here.",
    },
}

STATUS = {
    "pending": {"ja": "承認待ち", "en": "Pending approval"},
    "approved": {"ja": "承認済み", "en": "Approved"},
    "rejected": {"ja": "却下", "en": "Rejected"},
    "changes_requested": {"ja": "差戻し（修正待ち）", "en": "Changes requested"},
}
OUTCOME = {
    "approved": {"ja": "承認", "en": "approved"},
    "rejected": {"ja": "却下", "en": "rejected"},
    "changes_requested": {"ja": "差戻し", "en": "requested changes"},
}
LEVEL = {
    "low": {"ja": "低", "en": "low"},
    "medium": {"ja": "中", "en": "medium"},
    "high": {"ja": "高", "en": "high"},
}


def lang_of(lang: str | None) -> str:
    return lang if lang in ("ja", "en") else "ja"


def text(key: str, lang: str, **kwargs: object) -> str:
    """A Teams card text; a key only the shared table has comes from there."""
    entry = TEXTS.get(key)
    if entry is None:
        return shared_text(key, lang, **kwargs)
    template = entry.get(lang, entry["ja"])
    return template.format(**kwargs) if kwargs else template


def label(table: dict[str, dict[str, str]], key: str, lang: str) -> str:
    entry = table.get(key)
    return entry.get(lang, entry["ja"]) if entry else key

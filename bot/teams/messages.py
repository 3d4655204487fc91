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
    # -- dialogs (bot/teams/dialogs.py) --
    "dialog_lead": {
        "ja": "下のボタンで入力画面を開きます。途中で閉じても、続きから再開できます。",
        "en": "The button opens the form. Close it any time: you can continue later.",
    },
    "dialog_lead_resume": {
        "ja": "入力途中の内容があります。下のボタンで続きから再開します（最初からやり直すには「{command} new」）。",
        "en": "You have one in progress: the button continues it (“{command} new” starts again).",
    },
    "dialog_missing": {
        "ja": "この入力は見つかりませんでした。もう一度始めてください。",
        "en": "This form could not be found. Please start again.",
    },
    "dialog_owner": {"ja": "この入力は別の人のものです。", "en": "This form is someone else's."},
    "dialog_expired": {
        "ja": "この入力は期限切れです。もう一度始めてください（途中までの内容は保存されていません）。",
        "en": "This form has expired. Please start again (what was entered is not kept).",
    },
    "dialog_closed": {
        "ja": "この入力はすでに完了または中止されています。",
        "en": "This form was already finished or cancelled.",
    },
    "dialog_stale": {
        "ja": "この画面は古くなっています（すでに送信済みか、別の画面で進んでいます）。入力した内容は保存されています。チャットのカードの「続きから入力する」で最新の画面を開いてください。",
        "en": "This screen is out of date (already sent, or moved on elsewhere). Nothing was lost: open the latest one with “Continue” on the chat card.",
    },
    "draft_ready": {
        "ja": "ドラフトを作成しました。Itaku との個人チャットに Word と Markdown のファイルを送ります（それぞれ「許可」すると OneDrive に保存されます）。",
        "en": "The draft is ready. Itaku is sending the Word and Markdown files to your personal chat (allow each to save it to your OneDrive).",
    },
    "draft_files": {
        "ja": "{title}のドラフトを作成しました。続く2つのファイル（Word と Markdown）を「許可」すると OneDrive に保存され、このチャットに届きます。",
        "en": "The draft {title} is ready. Allow the two files below (Word and Markdown) to save them to your OneDrive and receive them here.",
    },
    "markdown_description": {
        "ja": "Itakuが作成した文書のMarkdown版です（編集や差分の確認に）。許可するとOneDriveに保存され、このチャットに届きます。",
        "en": "The Markdown version of the document (for editing and comparing). Allow it to be saved to your OneDrive and sent here.",
    },
    "file_declined": {
        "ja": "「{name}」は保存しませんでした。必要になったら、ドラフトのカードの「編集する」から「作成する」を押すと、もう一度送ります。",
        "en": "“{name}” was not saved. To get it later, use Edit on the draft's card, then Create.",
    },
    "file_changed": {
        "ja": "このファイルのもとになった入力は、その後変更されています。ドラフトのカードの「編集する」から「作成する」を押すと、最新の内容で送ります。",
        "en": "What this file was made from has changed since. Use Edit on the draft's card, then Create, to get the current one.",
    },
    "file_gone": {
        "ja": "このドラフトは見つかりませんでした（保存期間を過ぎたか、削除されています）。`nda` で作成し直してください。",
        "en": "This draft could not be found (kept no longer, or removed). Send `nda` to draft it again.",
    },
    "upload_failed": {
        "ja": "「{name}」をOneDriveに保存できませんでした。ドラフトのカードの「編集する」から「作成する」を押すと、もう一度送ります。",
        "en": "“{name}” could not be saved to your OneDrive. Use Edit on the draft's card, then Create, to send it again.",
    },
    "no_personal_chat": {
        "ja": "Itaku との個人チャットを開けなかったため、結果を送れませんでした。Teams で Itaku を個人用アプリとして追加してから、もう一度お試しください。",
        "en": "Itaku could not open a personal chat with you to send the result. Add Itaku as a personal app in Teams, then try again.",
    },
    "request_filed": {
        "ja": "再委託の承認申請 {id} を提出しました（リスク：{level}）。{stage} の判断を待っています。判断が出たらお知らせします。",
        "en": "Subcontracting request {id} is filed (risk: {level}). Waiting for: {stage}. You will hear of each decision.",
    },
    "request_resubmitted": {
        "ja": "再委託の承認申請 {id} を修正して再提出しました（第{n}版、リスク：{level}）。{stage} の判断を待っています。",
        "en": "Subcontracting request {id} is resubmitted (revision {n}, risk: {level}). Waiting for: {stage}.",
    },
    "request_not_filed": {
        "ja": "{message}\n入力した内容は保存されています。チャットのカードの「続きから入力する」で確認画面に戻れます。",
        "en": "{message}\nWhat you entered is kept: “Continue” on the chat card takes you back to the review.",
    },
}


def text(key: str, lang: str, **kwargs: object) -> str:
    """A Teams text; those shown around every answer (failed…) are the core's."""
    entry = _TEXTS.get(key)
    if entry is None:
        return messages.text(key, lang, **kwargs)
    template = entry.get(lang) or entry["ja"]
    return template.format(**kwargs) if kwargs else template

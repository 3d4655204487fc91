"""Subcontracting requests in Teams: the request's card (content, risk, where it stands, the
decisions so far and what comes next; Approve / Reject / Request changes for those who may
decide), with a `refresh` so that Teams asks the bot for each approver's own view, and a
personal list of one's requests and of what waits for one's decision.

Buttons are Action.Execute (Universal Actions, adaptiveCard/action invokes): verb itaku.approve
with data {request_id, revision}; itaku.reject / itaku.revise with the same data and the reason
typed into the card (read it with `decision_of`); itaku.refresh with data {request_id}."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.approvals.service import OutcomeName, RequestView
from bot.dialogs.specs import DIALOGS
from bot.teams.cards.base import (
    Card,
    Element,
    card,
    escape,
    fit,
    heading,
    one_line,
    plain,
    scaled,
    subtle,
    text_block,
    truncate,
)
from bot.teams.cards.dialog_cards import answer_words
from bot.teams.cards.texts import LEVEL, OUTCOME, STATUS, label, lang_of, text

APPROVE_VERB = "itaku.approve"
REJECT_VERB = "itaku.reject"
REVISE_VERB = "itaku.revise"
REFRESH_VERB = "itaku.refresh"
OUTCOME_OF_VERB: dict[str, OutcomeName] = {
    APPROVE_VERB: "approved",
    REJECT_VERB: "rejected",
    REVISE_VERB: "changes_requested",
}
# each reason box has its own id (input ids are unique within a card)
REASON_INPUT = {REJECT_VERB: "reject_reason", REVISE_VERB: "revise_reason"}
REASON_LIMIT = 1000
MAX_REFRESH_USERS = 60  # Teams refreshes a user-specific view automatically for at most 60

VALUE_LIMIT = 500
LIST_LIMIT = 10

STATUS_COLOR = {
    "pending": "Accent",
    "approved": "Good",
    "rejected": "Attention",
    "changes_requested": "Warning",
}
LEVEL_COLOR = {"low": "Good", "medium": "Warning", "high": "Attention"}

Names = Mapping[str, str]


def _who(actor: str, names: Names | None) -> str:
    return one_line((names or {}).get(actor) or actor)


def _people(entries: Iterable[str], names: Names | None, lang: str) -> str:
    return ("、" if lang == "ja" else ", ").join(_who(e, names) for e in entries)


def answer_lines(view: RequestView, lang: str) -> list[tuple[str, str]]:
    """(label, answer in words) of the request's revision, for the steps that apply."""
    spec = DIALOGS["subcontract"]
    out: list[tuple[str, str]] = []
    for step in spec.visible(view.answers):
        for name in step.fields:
            f = spec.fields[name]
            value = answer_words(spec, name, view.answers.get(name), lang)
            out.append((f.label_en if lang == "en" else f.label, value))
    return out


def refresh_block(request_id: str, user_ids: Iterable[str], lang: str = "ja") -> Element:
    """Teams refreshes the card for these users (at most 60, the first ones kept) by asking the
    bot (itaku.refresh) for their own view; others may refresh it from the card's menu."""
    unique = list(dict.fromkeys(u for u in user_ids if isinstance(u, str) and u))
    return {
        "action": {
            "type": "Action.Execute",
            "title": text("refresh", lang_of(lang)),
            "verb": REFRESH_VERB,
            "data": {"request_id": request_id},
        },
        "userIds": unique[:MAX_REFRESH_USERS],
    }


def _reason_card(view: RequestView, verb: str, outcome: str, lang: str) -> Element:
    data = {"request_id": view.id, "revision": view.revision}
    return {
        "type": "AdaptiveCard",
        "body": [
            {
                "type": "Input.Text",
                "id": REASON_INPUT[verb],
                "label": text("reason_label", lang, outcome=outcome),
                "isMultiline": True,
                "isRequired": True,
                "maxLength": REASON_LIMIT,
                "errorMessage": text("reason_missing", lang),
            }
        ],
        "actions": [
            {
                "type": "Action.Execute",
                "title": text("confirm", lang, outcome=outcome),
                "verb": verb,
                "data": data,
                "associatedInputs": "auto",
                "style": "destructive" if verb == REJECT_VERB else "default",
            }
        ],
    }


def decision_actions(view: RequestView, lang: str = "ja") -> list[Element]:
    lang = lang_of(lang)
    data = {"request_id": view.id, "revision": view.revision}
    approve: Element = {
        "type": "Action.Execute",
        "title": text("approve", lang),
        "verb": APPROVE_VERB,
        "data": data,
        "associatedInputs": "none",
        "style": "positive",
    }
    shows: list[Element] = []
    for verb, key in ((REJECT_VERB, "reject"), (REVISE_VERB, "revise")):
        outcome = text(key, lang)
        shows.append(
            {
                "type": "Action.ShowCard",
                "title": outcome,
                "card": _reason_card(view, verb, outcome, lang),
            }
        )
    return [approve, *shows]


def _state_elements(view: RequestView, names: Names | None, lang: str) -> list[Element]:
    status = label(STATUS, view.status, lang) + text("revision", lang, n=view.revision)
    out = [
        text_block(escape(status), weight="Bolder", color=STATUS_COLOR.get(view.status, "Default"))
    ]
    if view.stage is not None:
        who = _people(view.approvers, names, lang)
        stage = one_line(view.stage_name or "")
        out.append(text_block(text("waiting_for", lang, stage=stage, who=who), spacing="None"))
    return out


def _outcome_elements(view: RequestView, names: Names | None, lang: str) -> list[Element]:
    """After a decision: who decided, and what comes next."""
    if not view.current_decisions:
        return []
    last = view.current_decisions[-1]
    lines = [
        text(
            "decided",
            lang,
            who=_who(last.approver, names),
            outcome=label(OUTCOME, last.outcome, lang),
        )
    ]
    if view.stage is not None:
        who = _people(view.approvers, names, lang)
        lines.append(text("next_stage", lang, stage=one_line(view.stage_name or ""), who=who))
    elif view.status == "approved":
        lines.append(text("all_approved", lang))
    elif view.status == "rejected":
        lines.append(text("was_rejected", lang))
    elif view.status == "changes_requested":
        lines.append(text("changes_wanted", lang))
    return [
        text_block(line, spacing="Small", weight="Bolder" if i == 0 else "Default")
        for i, line in enumerate(lines)
    ]


def request_card(
    view: RequestView,
    viewer_may_decide: bool,
    lang: str = "ja",
    *,
    refresh_user_ids: Sequence[str] = (),
    names: Names | None = None,
) -> Card:
    """The request's card. With `viewer_may_decide` (the service's check for this viewer said
    yes), Approve, Reject and Request changes while it is pending; otherwise no buttons. While
    pending it carries a refresh for `refresh_user_ids` (the approvers Teams should ask the bot
    about, at most 60 kept). `names` shows people by name instead of by id."""
    lang = lang_of(lang)
    deciding = viewer_may_decide and view.status == "pending" and view.stage is not None

    def build(scale: float) -> Card:
        body: list[Element] = [
            heading(escape(text("request_head", lang, id=view.id))),
            text_block(one_line(truncate(view.title, scaled(200, scale))), spacing="None"),
            subtle(text("requester", lang, who=_who(view.requester, names))),
            *_state_elements(view, names, lang),
        ]
        level = label(LEVEL, view.risk.level, lang)
        risk: list[Element] = [
            text_block(
                escape(text("risk", lang, level=level, score=view.risk.score)),
                weight="Bolder",
                color=LEVEL_COLOR.get(view.risk.level, "Default"),
            )
        ]
        risk += [
            text_block(
                "- " + one_line(truncate(f"{r.text}（{r.source}）", scaled(300, scale))),
                spacing="None",
                size="Small",
            )
            for r in view.risk.reasons
        ]
        body.append({"type": "Container", "separator": True, "items": risk})
        facts = [
            {
                "title": plain(name, 100),
                "value": one_line(truncate(value, scaled(VALUE_LIMIT, scale))),
            }
            for name, value in answer_lines(view, lang)
        ]
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [
                    text_block(text("content", lang), weight="Bolder"),
                    {"type": "FactSet", "facts": facts},
                ],
            }
        )
        if view.current_decisions:
            lines: list[Element] = [text_block(text("decisions", lang), weight="Bolder")]
            for d in view.current_decisions:
                line = (
                    f"{one_line(d.stage_name)}　{label(OUTCOME, d.outcome, lang)}　"
                    f"{_who(d.approver, names)}"
                )
                if d.reason:
                    line += "：" + one_line(truncate(d.reason, scaled(REASON_LIMIT, scale)))
                lines.append(text_block(line, spacing="Small", size="Small"))
            body.append({"type": "Container", "separator": True, "items": lines})
            body += _outcome_elements(view, names, lang)
        refresh = (
            refresh_block(view.id, refresh_user_ids, lang) if view.status == "pending" else None
        )
        title = f"{view.id} {label(STATUS, view.status, lang)}: {view.title}"
        return card(
            body,
            decision_actions(view, lang) if deciding else None,
            refresh=refresh,
            fallback_text=title,
            full_width=True,
        )

    return fit(build, text("too_large", lang))


def decision_of(verb: str, data: Mapping[str, Any] | None) -> tuple[OutcomeName, str | None] | None:
    """What an itaku.approve / itaku.reject / itaku.revise invoke asks for: the outcome and the
    reason typed (None for another verb)."""
    outcome = OUTCOME_OF_VERB.get(verb)
    if outcome is None:
        return None
    raw = (data or {}).get(REASON_INPUT.get(verb, ""))
    reason = raw.strip() if isinstance(raw, str) else ""
    return outcome, reason[:REASON_LIMIT] or None


# -- one's own list ------------------------------------------------------------------------------


def _request_line(view: RequestView, lang: str, *, waiting: bool, scale: float) -> Element:
    title = one_line(truncate(view.title, scaled(120, scale)))
    if waiting:
        detail = one_line(view.stage_name or "")
    else:
        detail = label(STATUS, view.status, lang)
        if view.stage is not None:
            detail += f"・{one_line(view.stage_name or '')}"
        detail += f"（{text('risk_short', lang, level=label(LEVEL, view.risk.level, lang))}）"
    return {
        "type": "Container",
        "spacing": "Small",
        "items": [
            text_block(f"**{escape(view.id)}** {title}", spacing="None"),
            subtle(detail, color=STATUS_COLOR.get(view.status, "Default")),
        ],
    }


def my_requests_card(
    requests_of_user: Sequence[RequestView],
    waiting_for_user: Sequence[RequestView],
    lang: str = "ja",
) -> Card:
    """One's requests (id, title, status, stage, risk) and those waiting for one's decision,
    the newest ten of each."""
    lang = lang_of(lang)

    def listing(
        views: Sequence[RequestView], empty: str, waiting: bool, scale: float
    ) -> list[Element]:
        if not views:
            return [subtle(empty)]
        out = [_request_line(v, lang, waiting=waiting, scale=scale) for v in views[:LIST_LIMIT]]
        if len(views) > LIST_LIMIT:
            out.append(subtle(text("more", lang, n=len(views) - LIST_LIMIT)))
        return out

    def build(scale: float) -> Card:
        body = [heading(text("my_requests", lang))]
        body += listing(requests_of_user, text("no_requests", lang), False, scale)
        body.append(
            text_block(
                text("waiting_mine", lang), weight="Bolder", separator=True, spacing="Medium"
            )
        )
        body += listing(waiting_for_user, text("nothing_waiting", lang), True, scale)
        return card(body)

    return fit(build, text("too_large", lang))

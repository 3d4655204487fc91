"""Dialogs as a Teams task module: one card per step (inputs by the field's kind, pre-filled,
each error directly under its field, the step's guidance with its source, Back / Next), the
review (every answer, a Change button per step, Create), notices, the card that opens the task
module from a chat, and the summary of a finished draft with Edit. Submitted values are read back
with `dialog_values`.

Every button is an Action.Submit whose data carries {"itaku": "dialog", "dialog_id", "step",
"version", "move", ...}; inside the task module it arrives as task/submit, on a chat card
(`"msteams": {"type": "task/fetch"}`) as task/fetch. The inputs' values arrive beside it, under
"field:<name>"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dialogs.engine import DialogState, words
from bot.dialogs.guidance import StepGuidance
from bot.dialogs.spec import GENERAL, DialogSpec, StepSpec
from bot.teams.cards.base import (
    Card,
    Element,
    attention,
    card,
    escape,
    fit,
    heading,
    link,
    one_line,
    plain,
    scaled,
    subtle,
    text_block,
    truncate,
)
from bot.teams.cards.dialog_inputs import (
    FIELD_PREFIX,
    dialog_values,
    field_elements,
    field_input,
    field_label,
)
from bot.teams.cards.texts import lang_of, text

__all__ = [
    "DIALOG",
    "FIELD_PREFIX",
    "MOVE_BACK",
    "MOVE_EDIT",
    "MOVE_FINISH",
    "MOVE_GOTO",
    "MOVE_NEXT",
    "MOVE_START",
    "answer_words",
    "dialog_open_card",
    "dialog_step_card",
    "dialog_values",
    "draft_summary_card",
    "field_elements",
    "field_input",
    "notice_card",
    "review_card",
]

DIALOG = "dialog"  # data["itaku"] of every dialog button
MOVE_NEXT = "next"  # submit this step's inputs (engine.submit), then the next step
MOVE_BACK = "back"  # engine.back
MOVE_GOTO = "goto"  # from the review, change one step (engine.goto to data["goto"])
MOVE_FINISH = "finish"  # the review's Create (engine.finish)
MOVE_START = "start"  # task/fetch from a chat card: open (or resume) data["spec"]
MOVE_EDIT = "edit"  # task/fetch from a draft's summary: engine.reopen(data["dialog_id"])

GUIDANCE_LIMIT = 400
VALUE_LIMIT = 500  # an answer shown in the review


def _step_title(step: StepSpec, lang: str) -> str:
    return step.title_en if lang == "en" else step.title


def _spec_title(spec: DialogSpec, lang: str) -> str:
    return spec.title_en if lang == "en" else spec.title


def _data(state: DialogState, move: str, token: str | None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "itaku": DIALOG,
        "dialog_id": state.id,
        "step": state.step,
        "version": state.version,
        "move": move,
        **extra,
    }
    if token:
        data["token"] = token
    return data


def _submit(
    title: str, data: dict[str, Any], *, validate: bool, style: str | None = None
) -> Element:
    action: Element = {
        "type": "Action.Submit",
        "title": plain(title, 60),
        "data": data,
        "associatedInputs": "auto" if validate else "none",
    }
    if style:
        action["style"] = style
    return action


# -- inputs --------------------------------------------------------------------------------------


def guidance_elements(
    g: StepGuidance | None, lang: str = "ja", scale: float = 1.0
) -> list[Element]:
    """The step's guidance, quoted from the knowledge base, and its source (linked when the
    document names an http(s) original)."""
    if g is None:
        return []
    where = f"{g.title} — {g.section}" if g.section else g.title
    source = link(escape(truncate(where, 200)), g.url)
    return [
        {
            "type": "Container",
            "style": "emphasis",
            "items": [
                text_block(escape(truncate(g.text, scaled(GUIDANCE_LIMIT, scale))), size="Small"),
                subtle(text("guidance_source", lang_of(lang), source=source), spacing="Small"),
            ],
        }
    ]


# -- the step, the review ------------------------------------------------------------------------


def dialog_step_card(
    state: DialogState,
    spec: DialogSpec | None = None,
    guidance: StepGuidance | None = None,
    errors: Mapping[str, str] | None = None,
    lang: str = "ja",
    *,
    submitted: Mapping[str, Any] | None = None,
    resumed: bool = False,
    token: str | None = None,
) -> Card:
    """The card for the dialog's current step (the review once it is there). `spec` and
    `errors` default to the state's; `submitted` (read with `dialog_values`) puts back what was
    just typed when the step is shown again with its errors; `token` (a signed reference the
    adapter may add) travels in every button's data."""
    spec = spec or state.spec
    errors = state.errors if errors is None else errors
    lang = lang_of(lang)
    if state.at_review:
        return review_card(state, lang, problem=errors.get(GENERAL), token=token)
    step = spec.step(state.step)
    n, total = state.position()
    typed = dict(submitted or {})
    stray = [m for k, m in errors.items() if k not in step.fields]  # GENERAL, or a rule's

    def build(scale: float) -> Card:
        body: list[Element] = [
            heading(escape(text("step", lang, n=n, total=total, title=_step_title(step, lang))))
        ]
        if resumed:
            body.append(subtle(text("resumed", lang)))
        body += guidance_elements(guidance, lang, scale)
        body += [attention(escape(truncate(m, 300))) for m in stray]
        for name in step.fields:
            value = typed[name] if name in typed else state.value(name)
            body += field_elements(spec.fields[name], value, errors.get(name), lang, scale)
        actions: list[Element] = []
        if spec.previous_step(state.step, state.answers) is not None:
            actions.append(
                _submit(text("back", lang), _data(state, MOVE_BACK, token), validate=False)
            )
        actions.append(
            _submit(
                text("next", lang), _data(state, MOVE_NEXT, token), validate=True, style="positive"
            )
        )
        return card(body, actions)

    return fit(build, text("too_large", lang))


def answer_words(spec: DialogSpec, name: str, value: Any, lang: str) -> str:
    """An answer in words (the engine's, with "none" and yes/no in English for English)."""
    if lang == "en":
        if value is None or value == "" or value == []:
            return "(none)"
        if spec.fields[name].kind == "bool":
            return "Yes" if value else "No"
    return words(spec, name, value)


def review_card(
    state: DialogState, lang: str = "ja", *, problem: str | None = None, token: str | None = None
) -> Card:
    """Every answer of the steps that apply, a Change button per step, Back and Create. A
    problem found when finishing (the state's GENERAL error by default) shows at the top."""
    spec = state.spec
    lang = lang_of(lang)
    problem = problem if problem is not None else state.errors.get(GENERAL)
    n, total = state.position()

    def build(scale: float) -> Card:
        title = text("step", lang, n=n, total=total, title=text("review_title", lang))
        body: list[Element] = [heading(escape(title)), text_block(text("review_lead", lang))]
        if problem:
            body.append(attention(escape(truncate(problem, 300))))
        for step in spec.visible(state.answers):
            facts = [
                {
                    "title": field_label(spec.fields[name], lang),
                    "value": one_line(
                        truncate(
                            answer_words(spec, name, state.value(name), lang),
                            scaled(VALUE_LIMIT, scale),
                        )
                    ),
                }
                for name in step.fields
            ]
            body.append(
                {
                    "type": "Container",
                    "separator": True,
                    "items": [
                        text_block(escape(_step_title(step, lang)), weight="Bolder"),
                        {"type": "FactSet", "facts": facts},
                        {
                            "type": "ActionSet",
                            "actions": [
                                _submit(
                                    text("edit", lang),
                                    _data(state, MOVE_GOTO, token, goto=step.id),
                                    validate=False,
                                )
                            ],
                        },
                    ],
                }
            )
        body.append(subtle(text("draft_notice", lang), spacing="Medium"))
        actions = [
            _submit(text("back", lang), _data(state, MOVE_BACK, token), validate=False),
            _submit(
                text("finish", lang),
                _data(state, MOVE_FINISH, token),
                validate=False,
                style="positive",
            ),
        ]
        return card(body, actions)

    return fit(build, text("too_large", lang))


def notice_card(title: str, message: str) -> Card:
    """A message in the task module (a dialog that expired, was finished elsewhere, is stale)."""
    return fit(
        lambda scale: card(
            [
                heading(escape(truncate(title, 100))),
                text_block(escape(truncate(message, scaled(3000, scale)))),
            ]
        ),
        text("too_large", "ja"),
    )


# -- from a chat ---------------------------------------------------------------------------------


def dialog_open_card(
    spec: DialogSpec, lang: str = "ja", *, message: str | None = None, resumed: bool = False
) -> Card:
    """A chat card whose button opens the dialog in a task module (task/fetch, move "start")."""
    lang = lang_of(lang)
    body = [heading(escape(_spec_title(spec, lang)))]
    if message:
        body.append(text_block(escape(truncate(message, 2000))))
    action = {
        "type": "Action.Submit",
        "title": text("resume_dialog" if resumed else "open_dialog", lang),
        "data": {
            "msteams": {"type": "task/fetch"},
            "itaku": DIALOG,
            "move": MOVE_START,
            "spec": spec.id,
        },
    }
    return card(body, [action])


def draft_summary_card(
    title: str,
    summary: tuple[tuple[str, str], ...] | list[tuple[str, str]],
    notice: str,
    dialog_id: str,
    lang: str = "ja",
) -> Card:
    """What a finished draft was made from, its notice, and Edit (task/fetch, move "edit"),
    which reopens the dialog at its review."""
    lang = lang_of(lang)

    def build(scale: float) -> Card:
        facts = [
            {
                "title": plain(label, 100),
                "value": one_line(truncate(value, scaled(VALUE_LIMIT, scale))),
            }
            for label, value in summary
        ]
        body = [
            heading(escape(text("draft_summary", lang, title=truncate(title, 100)))),
            {"type": "FactSet", "facts": facts},
            text_block(escape(truncate(notice, 1000)), color="Warning", size="Small"),
        ]
        action = {
            "type": "Action.Submit",
            "title": text("edit_draft", lang),
            "data": {
                "msteams": {"type": "task/fetch"},
                "itaku": DIALOG,
                "move": MOVE_EDIT,
                "dialog_id": dialog_id,
            },
        }
        return card(body, [action])

    return fit(build, text("too_large", lang))


# -- reading a submission ------------------------------------------------------------------------

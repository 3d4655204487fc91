"""Pure Block Kit builders for dialogs: one modal per step (always replaced, never pushed, so the
modal stack stays at one view), the review, and notices. No I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.dialogs.engine import DialogState
from bot.dialogs.guidance import StepGuidance
from bot.dialogs.spec import GENERAL, FieldSpec
from bot.slack import ids
from bot.slack.blocks import escape, sections

Block = dict[str, Any]

TITLE_LIMIT = 24  # characters of a modal title
OPTION_LIMIT = 75  # characters of an option's text


def _plain(text: str, limit: int = 2000) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text[:3000]}


def _option(value: str, label: str) -> dict[str, Any]:
    text = label if len(label) <= OPTION_LIMIT else label[: OPTION_LIMIT - 1] + "…"
    return {"text": _plain(text), "value": value}


def field_block(f: FieldSpec, value: Any) -> Block:
    """One input block for a field, pre-filled with the answer so far or the recommended default."""
    element: dict[str, Any] = {"action_id": f.name}
    if f.kind in ("text", "textarea"):
        element["type"] = "plain_text_input"
        element["multiline"] = f.kind == "textarea"
        if f.max_length:
            element["max_length"] = f.max_length
        if value not in (None, ""):
            element["initial_value"] = str(value)
    elif f.kind == "choice":
        element["type"] = "radio_buttons"
        element["options"] = [_option(k, v) for k, v in f.options.items()]
        if value is not None and str(value) in f.options:
            element["initial_option"] = _option(str(value), f.options[str(value)])
    elif f.kind == "multi":
        element["type"] = "checkboxes"
        element["options"] = [_option(k, v) for k, v in f.options.items()]
        chosen = [_option(str(v), f.options[str(v)]) for v in value or [] if str(v) in f.options]
        if chosen:
            element["initial_options"] = chosen
    elif f.kind == "bool":
        element["type"] = "radio_buttons"
        yes, no = _option("true", "はい"), _option("false", "いいえ")
        element["options"] = [yes, no]
        if value is not None:
            element["initial_option"] = yes if value else no
    elif f.kind == "int":
        element["type"] = "number_input"
        element["is_decimal_allowed"] = False
        if f.minimum is not None:
            element["min_value"] = str(f.minimum)
        if f.maximum is not None:
            element["max_value"] = str(f.maximum)
        if value is not None:
            element["initial_value"] = str(value)
    else:  # date
        element["type"] = "datepicker"
        if isinstance(value, dt.date | str) and value:
            element["initial_date"] = str(value)
    block: Block = {
        "type": "input",
        "block_id": f"{ids.FIELD_BLOCK}{f.name}",
        "label": _plain(f.label),
        "element": element,
        "optional": not f.required or f.kind == "multi",
    }
    if f.reason:
        block["hint"] = _plain(f"推奨の理由：{f.reason}")
    return block


def guidance_blocks(g: StepGuidance | None) -> list[Block]:
    if g is None:
        return []
    where = f"{escape(g.title)} — {escape(g.section)}" if g.section else escape(g.title)
    source = f"<{g.url}|{where}>" if g.url and "|" not in g.url and ">" not in g.url else where
    return [
        {"type": "section", "text": _mrkdwn(f":bulb: {escape(g.text)}")},
        {"type": "context", "elements": [_mrkdwn(f"出典：{source}（`{escape(g.source)}`）")]},
    ]


def _modal(title: str, blocks: list[Block], token: str, submit: str | None) -> Block:
    view: Block = {
        "type": "modal",
        "callback_id": ids.DIALOG_VIEW,
        "private_metadata": token,
        "title": _plain(title, TITLE_LIMIT),
        "close": _plain("中断する"),
        "blocks": blocks[:100],
    }
    if submit:
        view["submit"] = _plain(submit)
    return view


def step_view(
    state: DialogState, guidance: StepGuidance | None, token: str, *, resumed: bool = False
) -> Block:
    spec = state.spec
    step = spec.step(state.step)
    n, total = state.position()
    heading = f"*ステップ {n}/{total}：{escape(step.title)}*"
    if resumed:
        heading += "\n前回の続きから再開しました（最初からやり直すには `/nda new`）。"
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(heading)}]
    blocks += guidance_blocks(guidance)
    if state.errors.get(GENERAL):
        blocks.append(
            {"type": "section", "text": _mrkdwn(f":warning: {escape(state.errors[GENERAL])}")}
        )
    blocks += [field_block(spec.fields[name], state.value(name)) for name in step.fields]
    if spec.previous_step(state.step, state.answers) is not None:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": _plain("← 戻る"), "action_id": ids.DIALOG_BACK}
                ],
            }
        )
    return _modal(spec.title, blocks, token, "次へ")


def review_view(state: DialogState, token: str, problem: str | None = None) -> Block:
    spec = state.spec
    n, total = state.position()
    blocks: list[Block] = [
        {
            "type": "section",
            "text": _mrkdwn(f"*ステップ {n}/{total}：内容の確認*\n次の内容で作成します。"),
        }
    ]
    if problem:
        blocks.append({"type": "section", "text": _mrkdwn(f":warning: {escape(problem)}")})
    lines = [f"*{escape(label)}*：{escape(value)}" for label, value in state.summary()]
    blocks += sections("\n".join(lines))
    steps = [_option(s.id, f"{i}. {s.title}") for i, s in enumerate(spec.visible(state.answers), 1)]
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": _plain("← 戻る"), "action_id": ids.DIALOG_BACK},
                {
                    "type": "static_select",
                    "action_id": ids.DIALOG_GOTO,
                    "placeholder": _plain("変更するステップを選ぶ"),
                    "options": steps[:100],
                },
            ],
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [_mrkdwn("作成した文書は法務部門のレビュー前のドラフトです。")],
        }
    )
    return _modal(spec.title, blocks, token, "作成する")


def notice_view(message: str, title: str = "Itaku") -> Block:
    return {
        "type": "modal",
        "title": _plain(title, TITLE_LIMIT),
        "close": _plain("閉じる"),
        "blocks": [{"type": "section", "text": _mrkdwn(escape(message))}],
    }


def values_of(view: dict[str, Any]) -> dict[str, Any]:
    """The submitted values of a dialog modal, by field name (as raw strings and lists)."""
    out: dict[str, Any] = {}
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return out
    for block_id, actions in values.items():
        if not str(block_id).startswith(ids.FIELD_BLOCK) or not isinstance(actions, dict):
            continue
        for name, element in actions.items():
            if isinstance(element, dict):
                out[str(name)] = _element_value(element)
    return out


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind == "radio_buttons" or kind == "static_select":
        option = element.get("selected_option")
        return option.get("value") if isinstance(option, dict) else None
    if kind == "checkboxes":
        options = element.get("selected_options") or []
        return [o.get("value") for o in options if isinstance(o, dict)]
    if kind == "datepicker":
        return element.get("selected_date")
    return element.get("value")

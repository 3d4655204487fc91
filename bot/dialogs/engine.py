"""Running a dialog: start or resume, submit a step, go back, review, finish, reopen, cancel.
Every call names the version the user acted on, so a stale window or a double submit is refused
instead of overwriting newer answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.dialogs.spec import (
    GENERAL,
    REVIEW,
    DialogSpec,
    mask_free_text,
    validate_all,
    validate_step,
)
from bot.llm.pii import Masker
from bot.store.dialogs import DialogRow, DialogStore, StaleDialogError


class DialogError(Exception):
    """A dialog cannot be used: unknown, someone else's, expired, finished or stale. The message
    is for the user (Japanese)."""


MESSAGES = {
    "missing": "この入力は見つかりませんでした。もう一度始めてください。",
    "owner": "この入力は別の人のものです。",
    "expired": "この入力は期限切れです。もう一度始めてください（途中までの内容は保存されていません）。",
    "closed": "この入力はすでに完了または中止されています。",
    "stale": "この画面は古くなっています。最新の画面から操作してください。",
}


@dataclass(frozen=True)
class DialogState:
    row: DialogRow
    spec: DialogSpec
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def step(self) -> str:
        return self.row.step

    @property
    def version(self) -> int:
        return self.row.version

    @property
    def answers(self) -> dict[str, Any]:
        return self.row.answers

    @property
    def at_review(self) -> bool:
        return self.row.step == REVIEW

    def position(self) -> tuple[int, int]:
        """(this step's number, steps in all) among the steps that apply."""
        visible = [s.id for s in self.spec.visible(self.answers)]
        if self.at_review:
            return len(visible) + 1, len(visible) + 1
        return visible.index(self.step) + 1, len(visible) + 1

    def value(self, name: str) -> Any:
        """The answer so far, else the recommended default."""
        if name in self.answers:
            return self.answers[name]
        return self.spec.fields[name].default

    def summary(self) -> list[tuple[str, str]]:
        """(label, answer in words) for every field of the steps that apply."""
        out: list[tuple[str, str]] = []
        for step in self.spec.visible(self.answers):
            for name in step.fields:
                out.append((self.spec.fields[name].label, words(self.spec, name, self.value(name))))
        return out


def words(spec: DialogSpec, name: str, value: Any) -> str:
    f = spec.fields[name]
    if value is None or value == "" or value == []:
        return "（なし）"
    if f.kind == "bool":
        return "はい" if value else "いいえ"
    if f.kind == "multi":
        return "、".join(f.options.get(str(v), str(v)) for v in value)
    if f.kind == "choice":
        return f.options.get(str(value), str(value))
    return str(value)


# a check of one step's validated values that needs a service (the incident dialog's contractor
# looked up in the ledger): (step id, values) -> messages by field name; {} when all is well
StepCheck = Callable[[str, dict[str, Any]], dict[str, str]]


class DialogEngine:
    def __init__(
        self,
        specs: dict[str, DialogSpec],
        store: DialogStore,
        checks: dict[str, StepCheck] | None = None,
    ) -> None:
        self.specs = specs
        self.store = store
        self.checks = dict(checks or {})  # by dialog id; an adapter adds what its services check

    # -- lifecycle -------------------------------------------------------------------------------

    def start(
        self,
        spec_id: str,
        owner: str,
        *,
        fresh: bool = False,
        prefill: dict[str, Any] | None = None,
    ) -> tuple[DialogState, bool]:
        """The owner's unfinished dialog of this kind (resumed: True), or a new one. `prefill`
        (values read from the user's own words) starts a new one with them, to confirm."""
        spec = self.specs[spec_id]
        current = self.store.latest_active(owner, spec_id)
        if current is not None and not fresh and not prefill:
            return DialogState(current, spec), True
        if current is not None:
            self.store.save(current, status="cancelled")
        row = self.store.create(spec_id, owner, spec.steps[0].id, dict(prefill or {}))
        return DialogState(row, spec), False

    def load(self, dialog_id: str, owner: str, version: int | None = None) -> DialogState:
        row = self.store.get(dialog_id)
        if row is None or row.spec not in self.specs:
            raise DialogError(MESSAGES["missing"])
        if row.owner != owner:
            raise DialogError(MESSAGES["owner"])
        if row.status != "active":
            raise DialogError(MESSAGES["closed"])
        if row.expired():
            raise DialogError(MESSAGES["expired"])
        if version is not None and version != row.version:
            raise DialogError(MESSAGES["stale"])
        return DialogState(row, self.specs[row.spec])

    def submit(
        self, dialog_id: str, owner: str, version: int, step_id: str, raw: dict[str, Any]
    ) -> DialogState:
        """Validate and keep one step's answers, then move to the next step that applies (or the
        review). With errors, the state is unchanged and carries them."""
        state = self.load(dialog_id, owner, version)
        if step_id != state.step or state.at_review:
            raise DialogError(MESSAGES["stale"])
        spec = state.spec
        values, errors = validate_step(spec, spec.step(step_id), raw, state.answers)
        check = self.checks.get(spec.id)
        if not errors and check is not None:
            errors = check(step_id, values)
        if errors:
            return DialogState(state.row, spec, errors)
        # free text is kept without the personal data typed into it ([EMAIL_1], [NAME_1]):
        # a purpose or a reason needs none, and the dialog is stored until it expires
        values = mask_free_text(spec.model, values, Masker())
        answers = {**state.answers, **values}
        for name in spec.step(step_id).fields:  # a field left blank falls back to its default
            if name not in values:
                answers.pop(name, None)
        return self._save(state, step=spec.next_step(step_id, answers), answers=answers)

    def back(self, dialog_id: str, owner: str, version: int) -> DialogState:
        state = self.load(dialog_id, owner, version)
        previous = state.spec.previous_step(state.step, state.answers)
        if previous is None:
            return state
        return self._save(state, step=previous)

    def goto(self, dialog_id: str, owner: str, version: int, step_id: str) -> DialogState:
        """From the review, jump to one step to change it."""
        state = self.load(dialog_id, owner, version)
        if not state.spec.step(step_id).applies(state.answers):
            raise DialogError(MESSAGES["stale"])
        return self._save(state, step=step_id)

    def finish(
        self, dialog_id: str, owner: str, version: int
    ) -> tuple[DialogState, BaseModel | None]:
        """Validate everything once more and close the dialog; its answers stay for `reopen`."""
        state = self.load(dialog_id, owner, version)
        if not state.at_review:
            raise DialogError(MESSAGES["stale"])
        model, problem = validate_all(state.spec, state.answers)
        if model is None:
            return DialogState(state.row, state.spec, {GENERAL: problem or ""}), None
        return self._save(state, status="finished"), model

    def reopen(self, dialog_id: str, owner: str) -> DialogState:
        """A finished dialog back at its review, answers kept (the "Edit" of a draft)."""
        row = self.store.get(dialog_id)
        if row is None or row.spec not in self.specs:
            raise DialogError(MESSAGES["missing"])
        if row.owner != owner:
            raise DialogError(MESSAGES["owner"])
        if row.status == "active" and not row.expired():
            return DialogState(row, self.specs[row.spec])
        state = DialogState(row, self.specs[row.spec])
        return self._save(state, step=REVIEW, status="active")

    def cancel(self, dialog_id: str, owner: str) -> None:
        state = self.load(dialog_id, owner)
        self._save(state, status="cancelled")

    def _save(self, state: DialogState, **changes: Any) -> DialogState:
        try:
            row = self.store.save(state.row, **changes)
        except StaleDialogError:
            raise DialogError(MESSAGES["stale"]) from None
        return DialogState(row, state.spec)

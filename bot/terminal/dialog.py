"""Guided dialogs in the terminal (`itaku chat`): the same engine and steps as in Slack, one
question per field, with guidance, recommended defaults, 戻る / 中断, and a review."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.approvals.render import request_text
from bot.approvals.service import ApprovalService
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.dialogs.engine import DialogEngine, DialogError, DialogState, words
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.handoff import NO_APPROVALS, DraftReady, Handoff, NotFiled, RequestFiled
from bot.dialogs.prefill import Prefiller
from bot.dialogs.spec import GENERAL, FieldSpec
from bot.drafting.clauses import ClauseError, ClauseLibrary, parse_clause_args
from bot.drafting.nda_fields import NdaAnswers

Read = Callable[[str], str | None]  # prompt -> line, None at end of input
Write = Callable[[str], None]

BACK = frozenset({"戻る", "もどる", "back", "/back"})
PAUSE = frozenset({"中断", "/pause", "pause", "/exit"})
CANCEL = frozenset({"キャンセル", "/cancel", "cancel"})
FINISH = frozenset({"作成", "作成する", "ok", "yes", "はい"})
YES = frozenset({"はい", "y", "yes", "true", "1", "する", "入れる"})
NO = frozenset({"いいえ", "n", "no", "false", "0", "しない", "入れない"})

_NDA_INTENT = re.compile(
    r"((NDA|秘密保持契約)(書)?.{0,12}(作|ドラフト|起案|用意|ひな形|雛形))|"
    r"((draft|create|make|write|prepare)\b.{0,20}\b(NDA|non-disclosure))",
    re.IGNORECASE,
)


_SUBCONTRACT_INTENT = re.compile(
    r"(再委託.{0,12}(申請|承認を|許可を))|((subcontract\w*).{0,20}(approval|request))",
    re.IGNORECASE,
)


def wants_nda(text: str) -> bool:
    return bool(_NDA_INTENT.search(text)) or text.strip().lower().startswith("/nda")


def wants_subcontract(text: str) -> bool:
    return bool(_SUBCONTRACT_INTENT.search(text)) or text.strip().lower().startswith("/subcontract")


def clause_text(library: ClauseLibrary, args: str) -> str:
    """`/clause [TOPIC] [key=value ...]` as terminal text: the filled clause, its explanation and
    source; the topics when no topic is given; the reason when something is wrong."""
    try:
        topic, values = parse_clause_args(args)
        if not topic:
            lines = [f"・{t.topic}：{t.explanation}" for t in library.topics()]
            return "条項のトピック（/clause トピック キー=値 …）\n" + "\n".join(lines)
        filled = library.fill(topic, values)
    except ClauseError as e:
        return f"⚠ {e}"
    t = filled.template
    used = "、".join(f"{p.name}={filled.values.get(p.name, p.default)}" for p in t.params)
    return "\n".join(
        [
            f"【{t.topic}】{t.title}",
            "",
            filled.text,
            "",
            f"解説：{t.explanation}",
            f"出典：{t.source}",
        ]
        + ([f"使った値：{used}"] if used else [])
    )


class _Back(Exception):
    pass


class _Stop(Exception):
    pass


class TerminalDrafting:
    def __init__(
        self,
        engine: DialogEngine,
        guidance: GuidanceLibrary,
        clauses: ClauseLibrary,
        drafts_dir: Path,
        owner: str,
        approvals: ApprovalService | None = None,
        prefiller: Prefiller | None = None,
    ) -> None:
        self.prefiller = prefiller
        self.approvals = approvals
        self.engine = engine
        self.guidance = guidance
        self.clauses = clauses
        self.drafts_dir = drafts_dir
        self.owner = owner

    @property
    def handoff(self) -> Handoff:
        """What a finished dialog becomes (bot/dialogs/handoff.py), with the current services."""
        return Handoff(self.clauses, self.approvals, via="terminal")

    # -- /clause ---------------------------------------------------------------------------------

    def clause(self, args: str) -> str:
        return clause_text(self.clauses, args)

    # -- the NDA dialog ----------------------------------------------------------------------------

    def _complete(
        self, spec_id: str, read: Read, write: Write, fresh: bool, said: str
    ) -> tuple[str, BaseModel] | None:
        """Start or resume a dialog (pre-filled from what the user `said`, with an LLM) and run
        it to the end: (dialog id, answers), or None when paused, cancelled or refused."""
        spec = self.engine.specs[spec_id]
        prefill = self.prefiller.values(spec, said) if self.prefiller and said else {}
        state, resumed = self.engine.start(spec_id, self.owner, fresh=fresh, prefill=prefill)
        if prefill:
            write(f"入力から {len(prefill)} 項目を読み取りました。各項目で確認・修正してください。")
        write(f"【{spec.title}】 各項目で「戻る」で前へ、「中断」で中断（続きは後で）。")
        if resumed:
            write(f"前回の続きから再開します（最初からやり直すには /{spec_id} new）。")
        try:
            model = self._run(state, read, write)
        except _Stop:
            write(f"中断しました。次に /{spec_id} と入力すると続きから再開します。")
            return None
        except DialogError as e:
            write(f"⚠ {e}")
            return None
        return (state.id, model) if model is not None else None

    def nda(self, read: Read, write: Write, fresh: bool = False, said: str = "") -> list[Path]:
        """Run the NDA dialog to the end; the paths of the written draft ([] if paused)."""
        done = self._complete("nda", read, write, fresh, said)
        if done is None or not isinstance(done[1], NdaAnswers):
            return []
        draft = self.handoff.finish(done[0], self.owner, done[1])
        assert isinstance(draft, DraftReady)  # what NDA answers become
        files = draft.files
        self.drafts_dir.mkdir(parents=True, exist_ok=True)
        docx = self.drafts_dir / f"{files.basename}.docx"
        md = self.drafts_dir / f"{files.basename}.md"
        docx.write_bytes(files.docx)
        md.write_text(files.markdown, encoding="utf-8")
        write(f"作成しました：\n  {docx}\n  {md}\n⚠ {files.notice}")
        return [docx, md]

    # -- the subcontracting request ---------------------------------------------------------------

    def subcontract(
        self, read: Read, write: Write, fresh: bool = False, said: str = ""
    ) -> str | None:
        """File a subcontracting approval request (or resubmit one sent back); its id."""
        if self.approvals is None:
            write(NO_APPROVALS)
            return None
        done = self._complete("subcontract", read, write, fresh, said)
        if done is None or not isinstance(done[1], SubcontractAnswers):
            return None
        filed = self.handoff.finish(done[0], self.owner, done[1])
        if isinstance(filed, NotFiled):
            write(f"⚠ {filed.message}")
            return None
        assert isinstance(filed, RequestFiled)  # what subcontracting answers become
        write(f"申請 {filed.request.id} を提出しました。\n{request_text(filed.request)}")
        return filed.request.id

    def _run(self, state: DialogState, read: Read, write: Write) -> BaseModel | None:
        while True:
            if state.at_review:
                done, state, model = self._review(state, read, write)
                if done:
                    return model
                continue
            try:
                raw = self._ask_step(state, read, write)
            except _Back:
                state = self.engine.back(state.id, self.owner, state.version)
                continue
            state = self.engine.submit(state.id, self.owner, state.version, state.step, raw)
            for name, message in state.errors.items():
                label = "" if name == GENERAL else state.spec.fields[name].label + "："
                write(f"⚠ {label}{message}")

    def _ask_step(self, state: DialogState, read: Read, write: Write) -> dict[str, Any]:
        step = state.spec.step(state.step)
        n, total = state.position()
        write(f"\n― ステップ {n}/{total}：{step.title} ―")
        g = self.guidance.for_step(step.guidance)
        if g is not None:
            write(f"（参考）{g.text}\n  出典：{g.title} — {g.section}（{g.source}）")
        return {
            name: self._ask_field(state, state.spec.fields[name], read, write)
            for name in step.fields
        }

    def _ask_field(self, state: DialogState, f: FieldSpec, read: Read, write: Write) -> Any:
        current = state.value(f.name)
        if f.options:
            for i, (_key, label) in enumerate(f.options.items(), 1):
                write(f"  {i}. {label}")
        if f.kind == "bool":
            write("  はい / いいえ")
        shown = words(state.spec, f.name, current) if current not in (None, "", []) else ""
        hint = f" [{shown}]" if shown else ""
        if f.reason:
            write(f"  推奨の理由：{f.reason}")
        line = read(f"{f.label}{hint}> ")
        if line is None:
            raise _Stop
        text = line.strip()
        if text in BACK:
            raise _Back
        if text in PAUSE:
            raise _Stop
        if text in CANCEL:
            self.engine.cancel(state.id, self.owner)
            raise _Stop
        if not text:
            return current
        return _parse(f, text)

    def _review(
        self, state: DialogState, read: Read, write: Write
    ) -> tuple[bool, DialogState, BaseModel | None]:
        write("\n― 内容の確認 ―")
        for label, value in state.summary():
            write(f"  {label}：{value}")
        steps = state.spec.visible(state.answers)
        write("変更するステップ：" + "　".join(f"{i}.{s.title}" for i, s in enumerate(steps, 1)))
        line = read("「作成」で作成、番号でそのステップを変更、「戻る」「中断」> ")
        if line is None or line.strip() in PAUSE:
            raise _Stop
        text = line.strip()
        if text in BACK:
            return False, self.engine.back(state.id, self.owner, state.version), None
        if text.isdigit() and 1 <= int(text) <= len(steps):
            return (
                False,
                self.engine.goto(state.id, self.owner, state.version, steps[int(text) - 1].id),
                None,
            )
        if text in FINISH:
            finished, model = self.engine.finish(state.id, self.owner, state.version)
            if model is None:
                write(f"⚠ {finished.errors.get(GENERAL, '')}")
                return False, finished, None
            return True, finished, model
        write("「作成」、ステップの番号、「戻る」、「中断」のどれかを入力してください。")
        return False, state, None


def _parse(f: FieldSpec, text: str) -> Any:
    keys = list(f.options)
    if f.kind == "choice":
        if text.isdigit() and 1 <= int(text) <= len(keys):
            return keys[int(text) - 1]
        return next((k for k, label in f.options.items() if text in (k, label)), text)
    if f.kind == "multi":
        chosen: list[str] = []
        for part in re.split(r"[,、，\s]+", text):
            if part.isdigit() and 1 <= int(part) <= len(keys):
                chosen.append(keys[int(part) - 1])
            elif part:
                chosen.append(part)
        return chosen
    if f.kind == "bool":
        low = text.lower()
        return True if low in YES else False if low in NO else text
    return text

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
from bot.contractors import prefill as ledger_prefill
from bot.contractors.models import ContractorRegistration
from bot.contractors.render import registered_text, review_recorded_text
from bot.contractors.review_fields import ReviewAnswers
from bot.contractors.reviews import ReviewService, find_contractor, start_review
from bot.contractors.service import ContractorService
from bot.dialogs.engine import DialogEngine, DialogError, DialogState, words
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.handoff import (
    NO_APPROVALS,
    NO_INCIDENTS,
    NO_LEDGER,
    ContractorRegistered,
    DraftReady,
    Handoff,
    IncidentFiled,
    NotFiled,
    RequestFiled,
    ReviewRecorded,
)
from bot.dialogs.prefill import Prefiller
from bot.dialogs.spec import GENERAL, FieldSpec
from bot.drafting.clauses import ClauseError, ClauseLibrary, parse_clause_args
from bot.drafting.nda_fields import NdaAnswers
from bot.incidents.intake import IncidentIntake
from bot.incidents.render import reasoning, timeline
from bot.incidents.service import IncidentService

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


_CONTRACTOR_INTENT = re.compile(
    r"(委託先.{0,8}(登録|台帳に(追加|載せ|入れ))(したい|します|して|を?お願い|を始め|を開始))|"
    r"(((^(please\s+)?)|((want|like)\s+to\s+))register\b.{0,20}\b(contractor|vendor|supplier))",
    re.IGNORECASE,
)


# 「委託先で漏えいが起きた」: something happened (a question about what to do if it did is answered)
_INCIDENT_INTENT = re.compile(
    r"((委託先|外注先|再委託先|業務委託先).{0,12}"
    r"(漏えい|漏洩|情報漏れ|流出|紛失|盗難|不正アクセス|ランサムウェア).{0,8}"
    r"(起きた|起きました|発生した|発生しました|あった|ありました|判明した|報告したい))|"
    r"(report\b.{0,20}\b(incident|breach|leak)\b.{0,30}\b(contractor|vendor|supplier))",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"[？?]|たら|場合|ときは|時は|どう|何を|なにを|いつ|べき|ですか|ますか|でしょう",
    re.IGNORECASE,
)


def wants_incident(text: str) -> bool:
    said = text.strip()
    if said.lower().startswith("/incident"):
        return True
    return bool(_INCIDENT_INTENT.search(said)) and not _QUESTION.search(said)


def wants_nda(text: str) -> bool:
    return bool(_NDA_INTENT.search(text)) or text.strip().lower().startswith("/nda")


def wants_subcontract(text: str) -> bool:
    return bool(_SUBCONTRACT_INTENT.search(text)) or text.strip().lower().startswith("/subcontract")


def wants_contractor(text: str) -> bool:
    return bool(_CONTRACTOR_INTENT.search(text)) or text.strip().lower().startswith("/contractor")


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
        contractors: ContractorService | None = None,
        reviews: ReviewService | None = None,
        incidents: IncidentService | None = None,
    ) -> None:
        self.incidents = incidents  # incidents at contractors (委託先での漏えい等)
        if incidents is not None:  # the contractor named is looked up in the ledger
            engine.checks.setdefault("incident", incidents.check_step)
        self.prefiller = prefiller
        self.contractors = contractors  # the ledger (委託先台帳): registration, the request's picks
        self.reviews = reviews  # periodic reviews of ledger contractors
        self.approvals = approvals
        self.engine = engine
        self.guidance = guidance
        self.clauses = clauses
        self.drafts_dir = drafts_dir
        self.owner = owner

    @property
    def handoff(self) -> Handoff:
        """What a finished dialog becomes (bot/dialogs/handoff.py), with the current services."""
        return Handoff(
            self.clauses,
            self.approvals,
            via="terminal",
            contractors=self.contractors,
            reviews=self.reviews,
            incidents=self.incidents,
        )

    # -- /clause ---------------------------------------------------------------------------------

    def clause(self, args: str) -> str:
        return clause_text(self.clauses, args)

    # -- the NDA dialog ----------------------------------------------------------------------------

    def _complete(
        self,
        spec_id: str,
        read: Read,
        write: Write,
        fresh: bool,
        said: str,
        known: dict[str, Any] | None = None,
    ) -> tuple[str, BaseModel] | None:
        """Start or resume a dialog (pre-filled from what the user `said`, with an LLM, and with
        what is `known` already) and run it to the end: (dialog id, answers), or None when
        paused, cancelled or refused."""
        spec = self.engine.specs[spec_id]
        prefill = self.prefiller.values(spec, said) if self.prefiller and said else {}
        state, resumed = self.engine.start(
            spec_id, self.owner, fresh=fresh, prefill={**prefill, **(known or {})}
        )
        if prefill:
            write(f"入力から {len(prefill)} 項目を読み取りました。各項目で確認・修正してください。")
        return self._drive(state, resumed, read, write)

    def _drive(
        self,
        state: DialogState,
        resumed: bool,
        read: Read,
        write: Write,
        again: str | None = None,
    ) -> tuple[str, BaseModel] | None:
        """Run a started dialog to the end (as `_complete`); `again`: what resumes it."""
        spec_id = state.spec.id
        write(f"【{state.spec.title}】 各項目で「戻る」で前へ、「中断」で中断（続きは後で）。")
        if resumed:
            restart = "" if again else f"（最初からやり直すには /{spec_id} new）"
            write(f"前回の続きから再開します{restart}。")
        again = again or f"/{spec_id}"
        try:
            model = self._run(state, read, write)
        except _Stop:
            write(f"中断しました。次に {again} と入力すると続きから再開します。")
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
        known = self._ledger_pick(read, write, fresh)
        if known is None:
            return None
        done = self._complete("subcontract", read, write, fresh, said, known)
        if done is None or not isinstance(done[1], SubcontractAnswers):
            return None
        filed = self.handoff.finish(done[0], self.owner, done[1])
        if isinstance(filed, NotFiled):
            write(f"⚠ {filed.message}")
            return None
        assert isinstance(filed, RequestFiled)  # what subcontracting answers become
        write(f"申請 {filed.request.id} を提出しました。\n{request_text(filed.request)}")
        return filed.request.id

    def _ledger_pick(self, read: Read, write: Write, fresh: bool) -> dict[str, Any] | None:
        """Before a new request: the user's ledger contractors to pick from; the picked one's
        values ({} when none is picked or there is nothing to offer; None: input ended)."""
        if self.contractors is None:
            return {}
        if not fresh and self.engine.store.latest_active(self.owner, "subcontract") is not None:
            return {}  # resuming: its answers stay as they are
        mine = ledger_prefill.choices(self.contractors, self.owner)
        if not mine:
            return {}
        write("台帳の委託先から選ぶと、委託先の名称などを入力済みにします（空欄で選ばずに進む）。")
        for i, view in enumerate(mine, 1):
            write(f"  {i}. {ledger_prefill.option_label(view)}")
        while True:
            line = read("委託先の番号> ")
            if line is None:
                return None
            text = line.strip()
            if not text:
                return {}
            if text.isdigit() and 1 <= int(text) <= len(mine):
                spec = self.engine.specs["subcontract"]
                picked = mine[int(text) - 1]
                return ledger_prefill.subcontract_values(spec, picked, self.contractors.today())
            write(f"1〜{len(mine)} の番号を入力するか、空欄のまま Enter を押してください。")

    # -- the contractor ledger ---------------------------------------------------------------------

    def contractor(
        self, read: Read, write: Write, fresh: bool = False, said: str = ""
    ) -> str | None:
        """Register a contractor in the ledger (委託先台帳), owned by this user; its id."""
        if self.contractors is None:
            write(NO_LEDGER)
            return None
        done = self._complete("contractor", read, write, fresh, said)
        if done is None or not isinstance(done[1], ContractorRegistration):
            return None
        result = self.handoff.finish(done[0], self.owner, done[1])
        if isinstance(result, NotFiled):
            write(f"⚠ {result.message}")
            return None
        assert isinstance(result, ContractorRegistered)  # what a registration becomes
        write(registered_text(result.contractor, self.contractors.today()))
        return result.contractor.id

    def review(self, key: str, read: Read, write: Write) -> str | None:
        """Run the periodic review of a ledger contractor (its id, corporate number or name) and
        record it; the review's id."""
        if self.contractors is None or self.reviews is None:
            write(NO_LEDGER)
            return None
        found = find_contractor(self.contractors, key)
        if found is None:
            write(
                "⚠ その委託先は台帳にありません（名称が同じ委託先が複数あるときは台帳IDで指定してください）。"
            )
            return None
        contractor_id = found.id
        state, resumed = start_review(self.engine, self.owner, contractor_id, self.reviews.today())
        done = self._drive(state, resumed, read, write, again=f"/review {contractor_id}")
        if done is None or not isinstance(done[1], ReviewAnswers):
            return None
        result = self.handoff.finish(done[0], self.owner, done[1])
        if isinstance(result, NotFiled):
            write(f"⚠ {result.message}")
            return None
        assert isinstance(result, ReviewRecorded)  # what a review becomes
        write(review_recorded_text(result.review, result.contractor))
        return result.review.id

    # -- incidents at contractors -------------------------------------------------------------------

    def incident(self, read: Read, write: Write, fresh: bool = False, said: str = "") -> str | None:
        """File an incident at a contractor (or update the facts of the one this dialog filed):
        whether a report to the PPC is required with its reasons and sources, the deadlines, and
        the draft report written to the drafts folder; the incident's id."""
        if self.incidents is None:
            write(NO_INCIDENTS)
            return None
        done = self._complete("incident", read, write, fresh, said)
        if done is None or not isinstance(done[1], IncidentIntake):
            return None
        result = self.handoff.finish(done[0], self.owner, done[1])
        if isinstance(result, NotFiled):
            write(f"⚠ {result.message}")
            return None
        assert isinstance(result, IncidentFiled)  # what an intake becomes
        view, files = result.incident, result.files
        did = "の事実を更新しました" if result.resubmitted else "を記録しました"
        lines = [f"\n{view.id}{did}（{view.contractor_name}）。{view.decision.summary_ja}"]
        lines += [f"  {label}：{text}" for label, text in timeline(view)]
        lines += ["判断の理由と出典："] + [f"  ・{line}" for line in reasoning(view)[1:]]
        self.drafts_dir.mkdir(parents=True, exist_ok=True)
        docx = self.drafts_dir / f"{files.basename}.docx"
        md = self.drafts_dir / f"{files.basename}.md"
        docx.write_bytes(files.docx)
        md.write_text(files.markdown, encoding="utf-8")
        lines += [f"報告書の下書き：\n  {docx}\n  {md}", f"⚠ {files.notice}"]
        lines.append(f"チェックリストと記録：itaku incidents show {view.id}")
        write("\n".join(lines))
        return view.id

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

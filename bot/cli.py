"""The `itaku` command line: index, ask, chat, bench."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.contractors import cli as contractors_cli  # light: imports the ledger only to run

if TYPE_CHECKING:  # imported lazily at run time: `itaku --help` stays instant
    from bot.assistant.service import Assistant
    from bot.config import Settings
    from bot.terminal.dialog import TerminalDrafting

EXIT_USAGE = 2
EXIT_NO_INDEX = 3


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="itaku",
        description="Itaku: answers about managing contractors' information security, with sources.",
    )
    p.add_argument(
        "--data-dir", type=Path, help="index folder (default: $ITAKU_DATA_DIR or ./data)"
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details (never message text)"
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    idx = sub.add_parser("index", help="index knowledge files (incremental)")
    idx.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or folders to add to the configured knowledge folder (default: just it)",
    )
    idx.add_argument(
        "--prune",
        action="store_true",
        help="remove files indexed earlier from other paths than these (and the configured folder)",
    )

    ask = sub.add_parser("ask", help="answer one question and exit")
    ask.add_argument(
        "question", help="the question, in Japanese or English ('-' reads it from stdin)"
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object (stable contract)")

    sub.add_parser("chat", help="interactive session (Ctrl-D to leave)")

    serve = sub.add_parser(
        "serve", help="run the Slack app (Socket Mode, or HTTP with --http) and/or Teams (--teams)"
    )
    serve.add_argument("--http", action="store_true", help="Slack in HTTP mode: POST /slack/events")
    serve.add_argument(
        "--teams", action="store_true", help="Microsoft Teams: POST /api/messages (HTTP)"
    )
    serve.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to bind")
    serve.add_argument("--port", type=int, default=3000, help="HTTP mode: port (0: any free)")

    cl = sub.add_parser("clause", help="a contract clause from the templates, filled with values")
    cl.add_argument("args", nargs="*", help="TOPIC [key=value ...] (no topic: list the topics)")

    ap = sub.add_parser("approvals", help="subcontracting approval requests (list, show, decide)")
    asub = ap.add_subparsers(dest="approvals", metavar="ACTION")
    al = asub.add_parser("list", help="requests, newest first")
    al.add_argument("--status", choices=["pending", "approved", "rejected", "changes_requested"])
    al.add_argument("--waiting-for", metavar="ID", help="only those this approver may decide now")
    ash = asub.add_parser("show", help="one request: answers, risk, decisions")
    ash.add_argument("request_id")
    ad = asub.add_parser("decide", help="approve, reject or request changes")
    ad.add_argument("request_id")
    ad.add_argument("outcome", choices=["approve", "reject", "changes"])
    ad.add_argument(
        "--as", dest="actor", required=True, help="your approver id (terminal:NAME or U…)"
    )
    ad.add_argument("--reason", help="required to reject or request changes")

    contractors_cli.add_parser(sub)  # the contractor ledger: list, show, export, import

    au = sub.add_parser("audit", help="the audit trail: verify, checkpoint, export")
    ausub = au.add_subparsers(dest="audit", metavar="ACTION")
    av = ausub.add_parser(
        "verify",
        help="check that no entry was changed, inserted or deleted, against the anchor file, "
        "a kept checkpoint, and the requests and decisions tables",
    )
    av.add_argument(
        "--checkpoint", type=Path, help="a checkpoint printed earlier by `itaku audit checkpoint`"
    )
    ausub.add_parser("checkpoint", help="print the signed head of the trail, for the auditor")
    ae = ausub.add_parser("export", help="the whole trail for an auditor")
    ae.add_argument("--format", choices=["csv"], default="csv")
    ae.add_argument("--output", type=Path, help="file to write (default: standard output)")

    man = sub.add_parser("manifest", help="print the Slack app manifest (HTTP mode with --url)")
    man.add_argument(
        "--url", help="public https:// base URL of HTTP mode, e.g. https://itaku.example.com"
    )

    tp = sub.add_parser("teams-package", help="write the Microsoft Teams app package (a zip)")
    tp.add_argument("--output", type=Path, help="zip to write (default: ./itaku-teams.zip)")
    tp.add_argument("--app-id", help="the Azure Bot's Microsoft App ID (default: $TEAMS_APP_ID)")
    tp.add_argument("--developer-name", help="publisher shown in Teams (default: Itaku)")
    tp.add_argument("--developer-url", help="https:// website (default: a placeholder)")
    tp.add_argument("--privacy-url", help="https:// privacy page (default: a placeholder)")
    tp.add_argument("--terms-url", help="https:// terms of use (default: a placeholder)")
    tp.add_argument(
        "--domain", action="append", default=[], help="a valid domain, e.g. itaku.example.com"
    )

    report = sub.add_parser("report", help="reports for the knowledge-base curator")
    rsub = report.add_subparsers(dest="report", metavar="REPORT")
    rg = rsub.add_parser("gaps", help="questions refused or voted unhelpful, most frequent first")
    rg.add_argument("--limit", type=int, default=20)
    rg.add_argument("--days", type=int, default=0, help="only the last N days (0: all)")
    rg.add_argument("--json", action="store_true", help="one JSON object per line")

    inc = sub.add_parser(
        "incidents", help="incidents at contractors: list, show, the PPC report's deadlines"
    )
    isub = inc.add_subparsers(dest="incidents", metavar="ACTION")
    idl = isub.add_parser(
        "deadline",
        help="whether each deadline applies, and its date, from the day of learning",
        description="The PPC report's deadlines (PPC Rule 8), assuming a report is required: "
        "速報 promptly (target: days 3-5) and 確報 in 30 days, or 60 with --improper; the day "
        "of learning is day 1, and a final deadline on a weekend or holiday moves to the next "
        "business day. Nothing is filed or stored.",
    )
    idl.add_argument(
        "--learned",
        required=True,
        metavar="YYYY-MM-DD",
        help="発覚日: the day any department first learned of it (not after today, Japan time)",
    )
    idl.add_argument(
        "--improper",
        action="store_true",
        help="an improper purpose (unauthorised access, ransomware, theft, insider) may be the "
        "cause: PPC Rules Art. 7(iii), 60 days for the final report",
    )
    ilst = isub.add_parser("list", help="incidents filed, newest first (発覚日)")
    ilst.add_argument(
        "--status", choices=["open", "closed"], help="only open (対応中) or closed ones"
    )
    ilst.add_argument("--contractor", metavar="CT-ID", help="only those at this contractor")
    ish = isub.add_parser(
        "show", help="one incident: timeline, checklist, reasoning with sources, history"
    )
    ish.add_argument("incident_id", help="IN-000001")

    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bsub = bench.add_subparsers(dest="bench", metavar="BENCH")
    bj = bsub.add_parser("jsquad", help="retrieval and answer quality on JSQuAD")
    bj.add_argument("--data", type=Path, required=True, help="path to valid-v1.3.json")
    bj.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    bj.add_argument("--no-vectors", action="store_true", help="lexical only (for comparison)")
    bs = bsub.add_parser("scale", help="indexing time, latency and memory at 1k/10k/100k chunks")
    bs.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts")
    bs.add_argument("--queries", type=int, default=200)
    bk = bsub.add_parser("kb", help="the bundled question set against the bundled knowledge base")
    bk.add_argument("--questions", type=Path, default=None)
    bk.add_argument("--show-failures", action="store_true")
    bll = bsub.add_parser("llm", help="the LLM pipeline's own overhead, against a local stand-in")
    bll.add_argument("--questions", type=int, default=100)
    bsl = bsub.add_parser("slack", help="the Slack app in HTTP mode under concurrent signed events")
    bsl.add_argument("--questions", type=int, default=600, help="questions to send")
    bsl.add_argument("--in-flight", type=int, default=20, help="questions unanswered at once")
    bsl.add_argument(
        "--retries", type=float, default=0.1, help="share of events re-sent as Slack retries"
    )
    bsl.add_argument(
        "--faults", type=int, default=0, help="Web API faults to inject during the run"
    )
    btm = bsub.add_parser("teams", help="`itaku serve --teams` under concurrent signed activities")
    btm.add_argument("--questions", type=int, default=200, help="questions to send")
    btm.add_argument(
        "--in-flight", type=int, default=20, help="questions unanswered at once (one a sender)"
    )
    btm.add_argument(
        "--faults",
        action="store_true",
        help="answer about every 10th Connector send with a 503, a 429 or a dropped connection",
    )
    btm.add_argument(
        "--burst", action="store_true", help="senders do not wait for answers (an overload)"
    )
    bau = bsub.add_parser("audit", help="time `itaku audit verify` on a long trail")
    bau.add_argument("--entries", type=int, default=100_000)
    bau.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    bf = bsub.add_parser("fuzz", help="hostile requests against a real `itaku serve --http`")
    bf.add_argument("--requests", type=int, default=5000, help="hostile requests to send")
    bf.add_argument("--senders", type=int, default=4, help="concurrent connections")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.data_dir is not None:
        os.environ["ITAKU_DATA_DIR"] = str(args.data_dir)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "index":
            return _cmd_index(args.paths, args.prune)
        if args.command == "ask":
            return _cmd_ask(args.question, args.json)
        if args.command == "chat":
            return _cmd_chat()
        if args.command == "bench":
            return _cmd_bench(args, parser)
        if args.command == "serve":
            return _cmd_serve(args.http, args.teams, args.host, args.port)
        if args.command == "clause":
            return _cmd_clause(args.args)
        if args.command == "approvals":
            return _cmd_approvals(args, parser)
        if args.command == "contractors":
            return contractors_cli.run(args, parser, _settings, review=_cmd_contractor_review)
        if args.command == "audit":
            return _cmd_audit(args, parser)
        if args.command == "manifest":
            return _cmd_manifest(args.url)
        if args.command == "teams-package":
            return _cmd_teams_package(args)
        if args.command == "report":
            return _cmd_report(args, parser)
        if args.command == "incidents":
            return _cmd_incidents(args, parser)
    except SettingsError as exc:
        print(f"itaku: a setting is wrong ({exc}); see .env.sample", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `itaku ask … | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0
    parser.print_help(sys.stderr)
    return EXIT_USAGE


class SettingsError(Exception):
    """A setting in the environment or .env has a value Itaku cannot use."""


def _settings() -> Settings:
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise SettingsError(problems) from None


def _cmd_index(paths: list[Path], prune: bool = False) -> int:
    from bot.assistant.service import make_embedder
    from bot.knowledge.indexer import IndexBusyError, run_index
    from bot.knowledge.vectorstore import VectorStore, open_client

    settings = _settings()
    missing = [p for p in paths if not p.exists()]
    if missing:
        for p in missing:
            print(f"itaku index: {p}: no such file or folder", file=sys.stderr)
        return 1
    configured = settings.knowledge_dir.resolve()
    roots = [settings.knowledge_dir, *(p for p in paths if p.resolve() != configured)]
    tty = sys.stderr.isatty()

    def progress(stage: str, done: int, total: int) -> None:
        if total < 50 and stage != "embed":
            return
        if tty:
            print(
                f"\r{stage}: {done}/{total}",
                end="" if done < total else "\n",
                file=sys.stderr,
                flush=True,
            )
        elif done == total or done % max(1, total // 10) == 0:
            print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)

    try:
        report = run_index(
            roots,
            settings.data_dir,
            make_embedder(settings),
            VectorStore(open_client(settings.data_dir, settings.chroma_url)),
            progress,
            prune=prune,
        )
    except IndexBusyError as exc:
        print(f"itaku index: {exc}", file=sys.stderr)
        return 1
    for source, reason in report.skipped:
        kept = " (previous version kept in the index)" if source in report.kept_previous else ""
        print(f"skipped {source}: {reason}{kept}", file=sys.stderr)
    if report.files_total == 0:
        print(
            "itaku index: no indexable files found (Markdown, text, PDF, .docx, HTML)",
            file=sys.stderr,
        )
        return 1
    state = "updated" if report.changed else "rebuilt" if report.new_generation else "up to date"
    print(
        f"index {state}: generation {report.generation}, {report.files_total} files "
        f"({len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.skipped)} skipped"
        + (
            f", {len(report.kept)} kept from other paths (--prune removes them)"
            if report.kept
            else ""
        )
        + f"), {report.chunks} chunks, "
        f"{report.embedded} embedded, {report.seconds:.1f}s"
    )
    return 0


def _open_assistant() -> Assistant:
    from bot.assistant.service import Assistant

    return Assistant.from_settings(_settings())


def _cmd_ask(question: str, as_json: bool) -> int:
    from bot.assistant import messages
    from bot.knowledge.search import IndexMissingError
    from bot.terminal.render import render_answer

    try:
        assistant = _open_assistant()
    except IndexMissingError:
        print(f"itaku ask: {messages.text('no_index', 'en')}", file=sys.stderr)
        return EXIT_NO_INDEX
    if question == "-":
        try:
            question = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError:
            print("itaku ask: the question on stdin is not UTF-8 text", file=sys.stderr)
            return EXIT_USAGE
    answer = assistant.ask(question)
    if as_json:
        print(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False))
    else:
        print(render_answer(answer))
    return 0


def _cmd_chat() -> int:
    from bot.assistant import messages
    from bot.knowledge.search import IndexMissingError
    from bot.terminal.chat import run_chat

    try:
        assistant = _open_assistant()
    except IndexMissingError:
        print(f"itaku chat: {messages.text('no_index', 'en')}", file=sys.stderr)
        return EXIT_NO_INDEX
    return run_chat(assistant, drafting=_terminal_drafting(assistant))


def _cmd_contractor_review(contractor: str) -> int:
    from bot.assistant import messages
    from bot.knowledge.search import IndexMissingError
    from bot.terminal.review import run_review

    try:
        assistant = _open_assistant()
    except IndexMissingError:
        print(f"itaku contractors: {messages.text('no_index', 'en')}", file=sys.stderr)
        return EXIT_NO_INDEX
    return run_review(_terminal_drafting(assistant), contractor)


def _terminal_drafting(assistant: Assistant) -> TerminalDrafting:
    import getpass

    from bot.approvals.service import open_approvals
    from bot.contractors.cli import open_ledger
    from bot.contractors.reviews import review_check
    from bot.dialogs.engine import DialogEngine
    from bot.dialogs.guidance import GuidanceLibrary
    from bot.dialogs.prefill import Prefiller
    from bot.dialogs.specs import DIALOGS
    from bot.drafting.clauses import ClauseLibrary
    from bot.incidents.service import open_incidents
    from bot.store.db import open_database
    from bot.store.dialogs import DialogStore
    from bot.terminal.dialog import TerminalDrafting

    settings = assistant.settings
    db = open_database(settings.resolved_database_url)
    try:
        approvals = open_approvals(settings, db)
    except ValueError as e:  # no usable policy: drafting still works, requests do not
        print(f"itaku chat: {e}", file=sys.stderr)
        approvals = None
    contractors, reviews = open_ledger(settings, db)
    engine = DialogEngine(DIALOGS, DialogStore(db, settings.dialog_ttl_s))
    if contractors is not None:  # the review dialog's contractor is checked against the ledger
        engine.checks["review"] = review_check(contractors)
    return TerminalDrafting(
        engine,
        GuidanceLibrary(assistant.kb),
        ClauseLibrary.load(settings.knowledge_dir),
        settings.drafts_dir,
        owner=f"terminal:{getpass.getuser()}",
        approvals=approvals,
        prefiller=(
            Prefiller(assistant.writer.client, assistant.writer.model, assistant.writer.policy)
            if assistant.writer is not None
            else None
        ),
        contractors=contractors,
        reviews=reviews,
        incidents=open_incidents(settings, db),
    )


def _cmd_bench(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.bench == "jsquad":
        from bot.bench.jsquad import run_jsquad

        return run_jsquad(args.data, limit=args.limit, vectors=not args.no_vectors)
    if args.bench == "scale":
        from bot.bench.scale import run_scale

        return run_scale([int(s) for s in args.sizes.split(",") if s.strip()], args.queries)
    if args.bench == "llm":
        from bot.bench.llm import run_llm_bench

        return run_llm_bench(args.questions)
    if args.bench == "slack":
        from bot.bench.slack import run_slack_bench

        return run_slack_bench(args.questions, args.in_flight, args.retries, args.faults)
    if args.bench == "teams":
        from bot.bench.teams import run_teams_bench

        return run_teams_bench(args.questions, args.in_flight, args.faults, args.burst)
    if args.bench == "audit":
        from bot.bench.audit import run_audit_bench

        return run_audit_bench(args.entries, args.database_url)
    if args.bench == "fuzz":
        from bot.bench.fuzz import run_fuzz_bench

        return run_fuzz_bench(args.requests, args.senders)
    if args.bench == "kb":
        from bot.bench.kb import run_kb

        return run_kb(args.questions, show_failures=args.show_failures)
    parser.parse_args(["bench", "--help"])
    return EXIT_USAGE


def _cmd_serve(http: bool, teams: bool, host: str, port: int) -> int:
    from bot.knowledge.search import IndexMissingError
    from bot.serve import run_http
    from bot.slack.app import ConfigError
    from bot.slack.serve import run_socket
    from bot.teams.app import ConfigError as TeamsConfigError

    settings = _settings()
    try:
        if http or teams:
            run_http(settings, host, port, slack=http, teams=teams)
        else:
            run_socket(settings)
    except (ConfigError, TeamsConfigError) as e:
        print(f"itaku serve: {e} See .env.sample.", file=sys.stderr)
        return EXIT_USAGE
    except IndexMissingError:
        print("itaku serve: no index yet; run `itaku index` first.", file=sys.stderr)
        return EXIT_NO_INDEX
    return 0


def _cmd_report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.report != "gaps":
        parser.parse_args(["report", "--help"])
        return EXIT_USAGE
    from datetime import UTC, datetime, timedelta

    from bot.store.answers import AnswerLog
    from bot.store.db import open_database

    db = open_database(_settings().resolved_database_url)
    since = datetime.now(UTC) - timedelta(days=args.days) if args.days > 0 else None
    gaps = AnswerLog(db).gaps(args.limit, since)
    if args.json:
        for g in gaps:
            print(
                json.dumps(
                    {
                        "question": g.question,
                        "asked": g.asked,
                        "refused": g.refused,
                        "unhelpful": g.unhelpful,
                        "helpful": g.helpful,
                        "last_asked": g.last_asked.isoformat(),
                    },
                    ensure_ascii=False,
                )
            )
        return 0
    if not gaps:
        print("No refused or unhelpful questions on record.")
        return 0
    print(f"{'asked':>5} {'refused':>7} {'unhelpful':>9}  last asked        question")
    for g in gaps:
        last = g.last_asked.strftime("%Y-%m-%d %H:%M")
        print(f"{g.asked:>5} {g.refused:>7} {g.unhelpful:>9}  {last}  {g.question}")
    return 0


def _cmd_incidents(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.incidents in ("list", "show"):
        return _cmd_incidents_read(args)
    if args.incidents != "deadline":
        parser.parse_args(["incidents", "--help"])
        return EXIT_USAGE
    from bot.incidents import deadlines as dl

    try:
        learned = dl.parse_learned_on(args.learned, dl.today_in_japan())
    except dl.LearnedDateError as e:
        print(f"itaku incidents deadline: {e}", file=sys.stderr)
        return EXIT_USAGE
    result = dl.compute_deadlines(learned, improper_purpose=args.improper)
    print("\n".join(dl.deadline_lines(result)))
    print("Assumes a report is required (PPC Rules Art. 7); --improper: item (iii), 60 days.")
    print(f"Sources: {dl.sources_line(result)}")
    return 0


def _cmd_incidents_read(args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.incidents.render import JST, incident_text, summary_line
    from bot.incidents.service import open_incidents

    service = open_incidents(_settings())
    if args.incidents == "list":
        views = service.search(status=args.status, contractor_id=args.contractor, limit=1000)
        if not views:
            print("インシデントはありません。")
        for v in views:
            print(summary_line(v))
        return 0
    view = service.get(args.incident_id) if len(args.incident_id) <= 20 else None
    if view is None:
        print(f"itaku incidents: {args.incident_id[:20]} は見つかりません。", file=sys.stderr)
        return EXIT_USAGE
    print(incident_text(view))
    print("\n― 記録 ―")
    for at, actor, action, details in service.history(view.id):
        what = details.get("step") or details.get("reminder") or ",".join(details.get("fields", []))
        when = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(JST)
        print(f"  {when:%Y-%m-%d %H:%M} {actor} {action} {what}".rstrip())
    return 0


def _cmd_manifest(url: str | None) -> int:
    from bot.slack import manifest

    try:
        data = manifest.for_http(url) if url else manifest.load()
    except ValueError as e:
        print(f"itaku manifest: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def _cmd_teams_package(args: argparse.Namespace) -> int:
    from bot.teams.package import Developer, run_teams_package

    given = {
        "name": args.developer_name,
        "website_url": args.developer_url,
        "privacy_url": args.privacy_url,
        "terms_url": args.terms_url,
    }
    dev = Developer(**{k: v for k, v in given.items() if v is not None})  # unset: placeholders
    app_id = args.app_id if args.app_id is not None else _settings().teams_app_id
    return run_teams_package(app_id, args.output, dev, tuple(args.domain))


def _cmd_clause(args: list[str]) -> int:
    import shlex

    from bot.drafting.clauses import ClauseLibrary
    from bot.terminal.dialog import clause_text

    text = clause_text(ClauseLibrary.load(_settings().knowledge_dir), shlex.join(args))
    print(text)
    return EXIT_USAGE if text.startswith("⚠") else 0


def _cmd_approvals(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.approvals is None:
        parser.parse_args(["approvals", "--help"])
        return EXIT_USAGE
    from bot.approvals.render import request_text
    from bot.approvals.service import OUTCOME_LABELS, OutcomeName, Result, open_approvals

    try:
        service = open_approvals(_settings())
    except ValueError as e:
        print(f"itaku approvals: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.approvals == "list":
        views = (
            service.waiting_for(args.waiting_for)
            if args.waiting_for
            else service.search(status=args.status)
        )
        if not views:
            print("申請はありません。")
        for v in views:
            waiting = f"　判断待ち：{v.stage_name}" if v.stage_name else ""
            print(f"{v.id}  {v.status_label}  リスク{v.level_label}  {v.title}{waiting}")
        return 0
    if len(args.request_id) > 20 or len(getattr(args, "actor", "") or "") > 100:
        # longer than the store's columns: nothing so long was ever issued or can be recorded
        print("itaku approvals: the request id or approver id is too long.", file=sys.stderr)
        return EXIT_USAGE
    view = service.get(args.request_id)
    if view is None:
        print(f"itaku approvals: 申請 {args.request_id} は見つかりません。", file=sys.stderr)
        return EXIT_USAGE
    if args.approvals == "show":
        print(request_text(view))
        return 0
    outcomes: dict[str, OutcomeName] = {
        "approve": "approved",
        "reject": "rejected",
        "changes": "changes_requested",
    }
    outcome = outcomes[args.outcome]
    result = service.decide(args.request_id, args.actor, outcome, args.reason, via="terminal")
    if result.result is not Result.RECORDED:
        print(f"itaku approvals: {result.message}", file=sys.stderr)
        return EXIT_USAGE
    assert result.request is not None
    print(
        f"{result.request.id}：{OUTCOME_LABELS[outcome]}を記録しました（状態：{result.request.status_label}）。"
    )
    return 0


def _cmd_audit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bot.store import audit
    from bot.store.db import open_database

    if args.audit is None:
        parser.parse_args(["audit", "--help"])
        return EXIT_USAGE
    settings = _settings()
    db = open_database(settings.resolved_database_url)
    db.audit_seal = audit.seal_from_settings(settings)
    if args.audit == "checkpoint":
        print(json.dumps(audit.checkpoint(db), ensure_ascii=False))
        return 0
    if args.audit == "verify":
        head = None
        if args.checkpoint is not None:
            try:
                head = json.loads(
                    args.checkpoint.read_text(encoding="utf-8").strip().splitlines()[-1]
                )
            except (OSError, ValueError, IndexError):
                print(f"itaku: {args.checkpoint} is not a checkpoint", file=sys.stderr)
                return EXIT_USAGE
            if not isinstance(head, dict):
                print(f"itaku: {args.checkpoint} is not a checkpoint", file=sys.stderr)
                return EXIT_USAGE
        report = audit.verify(db, head)
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        if report.ok:
            print(f"OK: {report.entries} entries, chain intact (head {report.head[:16]}…)")
            return 0
        print(
            f"TAMPERED: {len(report.problems)} problem(s) in {report.entries} entries",
            file=sys.stderr,
        )
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    out = args.output.open("w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        for chunk in audit.export_csv(db):
            out.write(chunk)
    finally:
        if args.output:
            out.close()
    return 0

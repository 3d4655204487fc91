"""`itaku contractors list|show|export|import|review|actions|close`: the contractor ledger and its
periodic reviews (定期点検) from the terminal.

bot/cli.py adds these commands with `add_parser` and runs them with `run`; this module imports
nothing heavy at load time, so `itaku --help` stays instant."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.contractors.reviews import ReviewService
    from bot.contractors.service import ContractorService

EXIT_USAGE = 2
EXIT_BAD_FILE = 1
EXIT_NOT_FOUND = 1

_IMPORT_HELP = """\
The file is CSV with one header row (UTF-8, with or without a byte-order mark, or Shift_JIS as
Excel saves it). Columns (the header may also use the English keys):
  名称 name, 委託業務 work, 担当者 owner, 契約開始日 contract_start, 契約終了日 contract_end (required);
  法人番号 corporate_number (13 digits, check digit verified), サービス services,
  契約形態 contract_type (請負/準委任/その他), 個人データ personal_data, 本人の数 personal_data_count,
  要配慮個人情報 sensitive_data, マイナンバー my_number, 機密情報 confidential_business_data (はい/いいえ),
  取扱国 processing_country, 認証 certifications (ISMS;Pマーク;その他), ISMS有効期限 isms_expires,
  Pマーク有効期限 pmark_expires, その他の認証 certification_other, その他の認証の有効期限
  certification_other_expires, 最終評価日 last_assessed (dates YYYY-MM-DD; YYYY/M/D is read too),
  委託元 parent (the parent's corporate number, name or id), 再委託申請 source_request_id (SR-000001).
ID, リスク and 次回点検日 (as exported) are ignored. Every row is checked first; if any is bad, each
problem is listed with its line number and column, and nothing is imported. A contractor is
recognised by its parent and corporate number (else its name): importing a file twice changes
nothing the second time."""


def add_parser(sub: Any) -> None:
    """The `contractors` command and its actions, on the `itaku` subparsers."""
    ct = sub.add_parser(
        "contractors",
        help="the contractor ledger (委託先台帳): list, show, export, import; reviews (定期点検)",
    )
    csub = ct.add_subparsers(dest="contractors", metavar="ACTION")
    cl = csub.add_parser("list", help="contractors with their risk and next review")
    cl.add_argument("--owner", metavar="ID", help="only those this user owns (U…, terminal:NAME)")
    cl.add_argument(
        "--due",
        nargs="?",
        type=int,
        const=0,
        metavar="DAYS",
        help="only those whose review is due (today, or within DAYS days)",
    )
    cs = csub.add_parser("show", help="one contractor: fields, risk, next review, chain")
    cs.add_argument("contractor_id", help="CT-000001, a corporate number, or a name")
    ce = csub.add_parser("export", help="the ledger as CSV (UTF-8 with BOM, for Excel)")
    ce.add_argument("--format", choices=["csv"], default="csv")
    ce.add_argument("--output", type=Path, help="file to write (default: standard output)")
    ci = csub.add_parser(
        "import",
        help="add or update contractors from a CSV file (all rows or none)",
        description=_IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ci.add_argument("file", type=Path)
    ci.add_argument("--as", dest="actor", help="who imports (default: terminal:YOUR_LOGIN)")
    cr = csub.add_parser(
        "review",
        help="record a periodic review (定期点検) of a contractor, step by step",
        description="Runs the review dialog (method, report, findings, corrective actions with "
        "due dates), each step quoting the knowledge base's checklist; the review is recorded, "
        "the contractor's last assessment and next review date updated. Needs `itaku index`.",
    )
    cr.add_argument("contractor", help="CT-000001, a corporate number, or a name")
    ca = csub.add_parser("actions", help="corrective actions from reviews, by due date")
    ca.add_argument("--open", action="store_true", help="only those not yet closed")
    ca.add_argument("--owner", metavar="ID", help="only this user's (U…, terminal:NAME)")
    ca.add_argument("--contractor", metavar="ID", help="only this contractor's (CT-000001)")
    cc = csub.add_parser("close", help="close a corrective action once it is confirmed done")
    cc.add_argument("action_id", help="CA-000001")
    cc.add_argument("--note", help="how it was confirmed (a report, a visit…); no personal data")
    cc.add_argument("--as", dest="actor", help="who closes it (default: terminal:YOUR_LOGIN)")


def open_contractors(settings: Any) -> ContractorService:
    """The ledger as configured: the database (sealed audit trail) and the risk rules."""
    from bot.contractors.risk import ContractorRules, default_contractor_rules_path
    from bot.contractors.service import ContractorService
    from bot.store import audit
    from bot.store.db import open_database

    db = open_database(settings.resolved_database_url)
    db.audit_seal = audit.seal_from_settings(settings)
    return ContractorService(
        db, ContractorRules.load(default_contractor_rules_path(settings.knowledge_dir))
    )


def open_ledger(settings: Any, db: Any) -> tuple[ContractorService | None, ReviewService | None]:
    """The ledger and its reviews on an open database (the terminal's dialogs); (None, None),
    said on standard error, when the contractor risk rules cannot be read."""
    from bot.contractors.reviews import ReviewService
    from bot.contractors.risk import ContractorRules, default_contractor_rules_path
    from bot.contractors.service import ContractorService
    from bot.store import audit

    if db.audit_seal is None:
        db.audit_seal = audit.seal_from_settings(settings)
    try:
        rules = ContractorRules.load(default_contractor_rules_path(settings.knowledge_dir))
    except ValueError as e:
        print(f"itaku: {e}", file=sys.stderr)
        return None, None
    contractors = ContractorService(db, rules)
    return contractors, ReviewService(contractors)


def run(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    settings: Callable[[], Any],
    review: Callable[[str], int] | None = None,
) -> int:
    """`review`: runs the review dialog for a contractor id (bot/cli.py, which has the terminal
    and the knowledge base)."""
    if args.contractors is None:
        parser.parse_args(["contractors", "--help"])
        return EXIT_USAGE
    if args.contractors == "review":
        key = " ".join(str(args.contractor).split())
        if not key or len(key) > 100 or review is None:
            print(
                "itaku contractors: give the contractor (CT-000001, a corporate number or a name).",
                file=sys.stderr,
            )
            return EXIT_USAGE
        return review(key)
    try:
        service = open_contractors(settings())
    except ValueError as e:  # the rules file
        print(f"itaku contractors: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.contractors == "list":
        return _list(service, args.owner, args.due)
    if args.contractors == "show":
        return _show(service, args.contractor_id)
    if args.contractors == "export":
        return _export(service, args.output)
    if args.contractors == "actions":
        return _actions(service, args.open, args.owner, args.contractor)
    if args.contractors == "close":
        return _close(service, args.action_id, args.note, args.actor)
    return _import(service, args.file, args.actor)


def _list(service: ContractorService, owner: str | None, due: int | None) -> int:
    from bot.contractors.render import list_line

    views = service.search(owner=owner, due_within_days=due)
    if not views:
        print("点検が必要な委託先はありません。" if due is not None else "委託先はありません。")
    today = service.today()
    for view in views:
        print(list_line(view, today))
    return 0


def _show(service: ContractorService, key: str) -> int:
    from bot.contractors.render import contractor_text

    if len(key) > 100:
        print("itaku contractors: the contractor id is too long.", file=sys.stderr)
        return EXIT_USAGE
    view = service.find(key)
    if view is None:
        print(f"itaku contractors: 委託先 {key} は見つかりません。", file=sys.stderr)
        return EXIT_USAGE
    print(contractor_text(view, service.today(), service.chain(view.id)))
    return 0


def _export(service: ContractorService, output: Path | None) -> int:
    from bot.contractors.csv_io import csv_text, export_rows

    rows = list(export_rows(service))
    data = csv_text(rows).encode("utf-8")
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    try:
        output.write_bytes(data)
    except OSError as e:
        print(f"itaku contractors: {output}: {e.strerror}", file=sys.stderr)
        return EXIT_BAD_FILE
    print(f"{output} に {len(rows) - 1} 件を書き出しました。", file=sys.stderr)
    return 0


def _import(service: ContractorService, path: Path, actor: str | None) -> int:
    import getpass

    from bot.contractors.csv_io import import_csv
    from bot.contractors.service import check_owner

    actor = actor or f"terminal:{getpass.getuser()}"
    if check_owner(actor) is not None:
        print("itaku contractors: --as must be a user id without spaces.", file=sys.stderr)
        return EXIT_USAGE
    try:
        data = path.read_bytes()
    except OSError as e:
        print(f"itaku contractors: {path}: {e.strerror}", file=sys.stderr)
        return EXIT_BAD_FILE
    report = import_csv(service, data, actor)
    if not report.ok:
        print(
            f"itaku contractors: {path.name} は取り込みませんでした（{len(report.errors)}件の問題）。"
            "すべて直してから、もう一度取り込んでください。",
            file=sys.stderr,
        )
        for error in report.errors:
            print(f"  {error}", file=sys.stderr)
        return EXIT_BAD_FILE
    print(
        f"{report.rows}行を取り込みました：登録 {len(report.created)}件、"
        f"更新 {len(report.updated)}件、変更なし {len(report.unchanged)}件。"
    )
    return 0


def _actions(
    service: ContractorService, open_only: bool, owner: str | None, contractor: str | None
) -> int:
    from bot.contractors.render import action_line
    from bot.contractors.reviews import ReviewService

    found = ReviewService(service).actions(
        open_only=open_only, owner=owner, contractor_id=contractor
    )
    if not found:
        print("対応中の是正措置はありません。" if open_only else "是正措置はありません。")
    today = service.today()
    for action in found:
        print(action_line(action, today))
    return 0


def _close(service: ContractorService, action_id: str, note: str | None, actor: str | None) -> int:
    import getpass

    from bot.contractors.reviews import Closed, ReviewService, is_action_id
    from bot.contractors.service import check_owner

    actor = actor or f"terminal:{getpass.getuser()}"
    if check_owner(actor) is not None:
        print("itaku contractors: --as must be a user id without spaces.", file=sys.stderr)
        return EXIT_USAGE
    if not is_action_id(action_id):
        print("itaku contractors: give the corrective action's id (CA-000001).", file=sys.stderr)
        return EXIT_USAGE
    done = ReviewService(service).close(action_id, actor, note=note, via="terminal")
    if done.result is Closed.CLOSED:
        print(f"是正措置 {action_id} を完了にしました。")
        return 0
    if done.result is Closed.ALREADY:
        print(done.message)
        return 0
    print(f"itaku contractors: {done.message}", file=sys.stderr)
    return EXIT_NOT_FOUND

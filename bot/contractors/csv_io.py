"""The ledger as CSV, for Excel: export and all-or-nothing import.

Export writes UTF-8 with a byte-order mark (so Excel opens Japanese text correctly), CRLF line
ends, one header row, then one row per contractor, each parent before its subcontractors. The
columns, in order (`COLUMNS`):

| 見出し | 内容 |
|---|---|
| ID | 台帳のID（CT-000001）。参考：取り込みでは使わない |
| 名称 | 委託先の名称（必須） |
| 法人番号 | 13桁。先頭の検査用数字を確かめる。空欄可 |
| サービス | 提供を受けるサービス。空欄可 |
| 委託業務 | 委託する業務の内容と範囲（必須） |
| 担当者 | 自社の担当者のユーザーID（必須：Slack の U…、terminal:名前 など） |
| 契約形態 | 請負／準委任／その他。空欄は未確認 |
| 契約開始日・契約終了日 | YYYY-MM-DD（YYYY/M/D も可）。必須。終了日は開始日より後 |
| 個人データ・要配慮個人情報・マイナンバー・機密情報 | はい／いいえ（空欄はいいえ） |
| 本人の数 | 個人データの本人の数（空欄は不明） |
| 取扱国 | 情報を取り扱う国（空欄は日本） |
| 認証 | ISMS、Pマーク、その他 を「;」で区切る。有効期限の列に日付があればその認証も含む |
| ISMS有効期限・Pマーク有効期限・その他の認証の有効期限 | YYYY-MM-DD。空欄は未登録 |
| その他の認証 | 「その他」の認証の名称 |
| 最終評価日 | 委託先の対策を最後に評価した日。空欄は未評価 |
| 委託元 | 再委託先のとき、親の委託先の法人番号・名称・ID のどれか。空欄は自社の委託先 |
| 再委託申請 | その再委託先を承認した申請（SR-000001）。空欄可 |
| リスク・次回点検日 | 参考：取り込みでは使わない |

The header may also use the English keys (`name`, `corporate_number`, ...). Import reads UTF-8
(with or without the mark) or Shift_JIS (Excel's "CSV" in Japanese Windows), checks every row
(required fields, the corporate number's check digit, dates, choices, the parent) and reports
every problem with its line number and column; if any row is bad nothing is imported. Otherwise
all rows are written in one transaction. A contractor is recognised by its parent and its
corporate number, else its name: importing the same file again changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.approvals.subcontract_fields import normalize_name
from bot.contractors.models import (
    CERTIFICATION_SHORT,
    CONTRACT_TYPE_SHORT,
    EXPIRY_FIELDS,
    SHORT_LABELS,
    ContractorFields,
    identity_key,
    is_corporate_number,
    normalize_corporate_number,
)
from bot.contractors.service import (
    FIELD_NAMES,
    ContractorService,
    ContractorView,
    Result,
    _apply,
    _insert,
    check_owner,
    is_contractor_id,
    ledger_key,
    stored_values,
)
from bot.dialogs.spec import message_of
from bot.store import audit
from bot.store.tables import ContractorRecord

BOM = "\ufeff"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    imported: bool = True  # False: shown for reference, ignored on import


COLUMNS: tuple[Column, ...] = (
    Column("id", "ID", imported=False),
    *(Column(key, SHORT_LABELS[key]) for key in ("name", "corporate_number", "services", "work")),
    Column("owner", "担当者"),
    *(Column(key, SHORT_LABELS[key]) for key in FIELD_NAMES[4:]),
    Column("parent", "委託元"),
    Column("source_request_id", "再委託申請"),
    Column("risk", "リスク", imported=False),
    Column("next_review", "次回点検日", imported=False),
)
HEADER = tuple(c.header for c in COLUMNS)
REQUIRED = ("name", "work", "owner", "contract_start", "contract_end")
_BY_NAME = {c.header: c for c in COLUMNS} | {c.key: c for c in COLUMNS}
_HEADER_OF = {c.key: c.header for c in COLUMNS}

_BOOLS = ("personal_data", "sensitive_data", "my_number", "confidential_business_data")
_DATES = (
    "contract_start",
    "contract_end",
    "isms_expires",
    "pmark_expires",
    "certification_other_expires",
    "last_assessed",
)
_TRUE = frozenset({"はい", "yes", "y", "true", "1", "○", "〇", "✓", "有", "あり"})
_FALSE = frozenset({"いいえ", "no", "n", "false", "0", "×", "-", "無", "なし", ""})
_CONTRACT_TYPES = {normalize_name(v): k for k, v in CONTRACT_TYPE_SHORT.items()} | {
    k: k for k in CONTRACT_TYPE_SHORT
}
_CERTIFICATIONS = {
    "isms": "isms",
    "iso27001": "isms",
    "isoiec27001": "isms",
    "pmark": "pmark",
    "pマーク": "pmark",
    "プライバシーマーク": "pmark",
    "other": "other",
    "その他": "other",
}
_LIST_SPLIT = re.compile(r"[;；,，、/／\n]+")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_REQUEST_ID = re.compile(r"^SR-\d{6,}$")


# -- export -------------------------------------------------------------------------------------


def _ordered(service: ContractorService) -> list[ContractorView]:
    """Every contractor once, each parent before its subcontractors."""
    views = service.search()
    by_id = {v.id: v for v in views}
    children: dict[str | None, list[str]] = {}
    for v in views:
        parent = v.parent_id if v.parent_id in by_id else None
        children.setdefault(parent, []).append(v.id)
    out: list[ContractorView] = []
    seen: set[str] = set()
    stack = list(reversed(children.get(None, [])))
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        out.append(by_id[current])
        stack.extend(reversed(children.get(current, [])))
    out += [v for v in views if v.id not in seen]  # in a cycle (never recorded, but possible)
    return out


def _parent_reference(parent: ContractorView, names: dict[str, int]) -> str:
    """How a row names its parent: the corporate number, else the name if no other contractor
    has it, else the ledger id."""
    if parent.fields.corporate_number:
        return parent.fields.corporate_number
    if names.get(normalize_name(parent.name), 0) == 1:
        return parent.name
    return parent.id


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export_rows(service: ContractorService) -> Iterator[list[str]]:
    """The header, then a row per contractor."""
    yield list(HEADER)
    views = _ordered(service)
    by_id = {v.id: v for v in views}
    names: dict[str, int] = {}
    for v in views:
        names[normalize_name(v.name)] = names.get(normalize_name(v.name), 0) + 1
    for v in views:
        f = v.fields
        parent = by_id.get(v.parent_id) if v.parent_id else None
        row = {
            "id": v.id,
            **{name: _cell(getattr(f, name)) for name in FIELD_NAMES},
            "owner": v.owner,
            "contract_type": CONTRACT_TYPE_SHORT[f.contract_type] if f.contract_type else "",
            "certifications": ";".join(CERTIFICATION_SHORT[c] for c in f.certifications),
            "parent": _parent_reference(parent, names) if parent else (v.parent_id or ""),
            "source_request_id": v.source_request_id or "",
            "risk": v.rating.assessment.label,
            "next_review": _cell(v.rating.next_review) or "未評価",
        }
        yield [row[c.key] for c in COLUMNS]


def csv_text(rows: Iterable[list[str]]) -> str:
    """Rows as CSV text for Excel: the byte-order mark first (write it as UTF-8), CRLF."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()


def export_csv(service: ContractorService) -> str:
    """The whole ledger as CSV text."""
    return csv_text(export_rows(service))


# -- import: reading and checking ---------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int  # the line of the file where the row starts (the header is line 1)
    column: str  # the column's header as in the file ("" for the row as a whole)
    message: str

    def __str__(self) -> str:
        where = f"{self.line}行目" + (f"「{self.column}」" if self.column else "")
        return f"{where}：{self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    fields: ContractorFields
    owner: str
    parent: str  # as written in the file ("" for none)
    source_request_id: str | None
    parent_row: int | None = None  # index of the parent among the file's rows
    parent_id: str | None = None  # the parent already in the ledger

    @property
    def identity(self) -> str:
        return identity_key(self.fields.name, self.fields.corporate_number)


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without the byte-order mark), else Shift_JIS (cp932)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError as e:
        raise ValueError(
            "文字コードを読み取れません。UTF-8 か Shift_JIS の CSV として保存してください。"
        ) from e


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _parse_bool(text: str) -> bool:
    folded = _fold(text)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError("「はい」か「いいえ」で入力してください。")


def _parse_date(text: str) -> str | None:
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded:
        return None
    match = _DATE.match(folded)
    if match is None:
        raise ValueError("日付は YYYY-MM-DD の形式で入力してください（例：2027-04-01）。")
    try:
        return dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        raise ValueError(f"{folded} という日付はありません。") from None


def _parse_count(text: str) -> int | None:
    folded = unicodedata.normalize("NFKC", text).strip().replace(",", "").removesuffix("人")
    if not folded:
        return None
    if not folded.isdigit():
        raise ValueError("本人の数は半角数字で入力してください（不明なら空欄）。")
    return int(folded)


def _parse_contract_type(text: str) -> str | None:
    if not text.strip():
        return None
    found = _CONTRACT_TYPES.get(normalize_name(text))
    if found is None:
        raise ValueError(
            "契約形態は「請負」「準委任」「その他」のどれか（未確認なら空欄）にしてください。"
        )
    return found


def _parse_text(text: str) -> str | None:
    return text.strip() or None


def _parse_certifications(text: str) -> list[str]:
    out: list[str] = []
    for part in _LIST_SPLIT.split(text):
        if not part.strip():
            continue
        kind = _CERTIFICATIONS.get(normalize_name(part))
        if kind is None:
            raise ValueError(
                f"「{part.strip()}」は使えません。認証は ISMS、Pマーク、その他 を「;」で区切って書いてください。"
            )
        out.append(kind)
    return out


_PARSERS: dict[str, Callable[[str], Any]] = {
    **dict.fromkeys(_BOOLS, _parse_bool),
    **dict.fromkeys(_DATES, _parse_date),
    "personal_data_count": _parse_count,
    "contract_type": _parse_contract_type,
    "certifications": _parse_certifications,
}


def _read_row(line: int, cells: dict[str, str]) -> tuple[_Row | None, list[RowError]]:
    """One data row checked: every problem in it, each with its column."""
    errors: list[RowError] = []
    reported: set[str] = set()  # fields whose cell could not be read at all
    values: dict[str, Any] = {}

    def bad(key: str, message: str) -> None:
        errors.append(RowError(line, _HEADER_OF.get(key, ""), message))
        reported.add(key)

    for key in FIELD_NAMES:
        raw = cells.get(key, "")
        try:
            parsed = _PARSERS.get(key, _parse_text)(raw)
        except ValueError as e:
            bad(key, str(e))
            continue
        if parsed is not None:  # blank: the field's default, or "required" below
            values[key] = parsed
    if "certifications" in values:
        # an expiry date, or the other certification's name, names its certification
        values["certifications"] += [k for k, name in EXPIRY_FIELDS.items() if name in values]
        if "certification_other" in values:
            values["certifications"].append("other")
    owner = cells.get("owner", "").strip()
    problem = check_owner(owner) if owner else "入力してください。"
    if problem:
        bad("owner", problem)
    source = cells.get("source_request_id", "").strip()
    if source and not _REQUEST_ID.match(source):
        bad(
            "source_request_id", "再委託申請は SR-000001 の形式で入力してください（なければ空欄）。"
        )
    try:
        fields = ContractorFields.model_validate(values)
    except ValidationError as e:
        for err in e.errors():
            loc = err.get("loc") or ()
            key = str(loc[0]) if loc else ""
            if key not in reported:
                errors.append(RowError(line, _HEADER_OF.get(key, ""), message_of(err)))
        return None, errors
    if errors:
        return None, errors
    return _Row(line, fields, owner, cells.get("parent", "").strip(), source or None), []


@dataclass
class _Read:
    rows: list[_Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    count: int = 0  # data rows, good and bad
    # how the bad rows could be named as a parent (their problems are reported already)
    bad_names: set[str] = field(default_factory=set)


def read_rows(text: str) -> _Read:
    """The file's rows, each checked alone."""
    reader = csv.reader(io.StringIO(text.removeprefix(BOM)))
    try:
        header = next(reader)
    except StopIteration:
        return _Read(errors=[RowError(1, "", "見出しの行がありません。")])
    except csv.Error as e:
        return _Read(errors=[RowError(1, "", f"CSV として読めません（{e}）。")])
    out = _Read()
    errors = out.errors
    keys: list[str | None] = []
    for name in header:
        column = _BY_NAME.get(unicodedata.normalize("NFKC", name).strip()) or _BY_NAME.get(
            name.strip()
        )
        if column is None:
            if name.strip():
                errors.append(RowError(1, name.strip(), "知らない列です。"))
            keys.append(None)
            continue
        if column.key in keys:
            errors.append(RowError(1, column.header, "同じ列が2回あります。"))
        keys.append(column.key if column.imported else None)
    missing = [_HEADER_OF[k] for k in REQUIRED if k not in keys]
    if missing:
        errors.append(RowError(1, "", f"必須の列がありません：{'、'.join(missing)}"))
    if errors:
        return out
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            errors.append(RowError(line, "", f"CSV として読めません（{e}）。"))
            break
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        out.count += 1
        by_key = {k: c for k, c in zip(keys, cells, strict=False) if k is not None}
        if len(cells) > len(keys):
            errors.append(RowError(start, "", f"列が多すぎます（見出しは{len(keys)}列）。"))
            row = None
        else:
            row, problems = _read_row(start, by_key)
            errors += problems
        if row is not None:
            out.rows.append(row)
            continue
        out.bad_names.add(normalize_name(by_key.get("name", "")))
        out.bad_names.add(normalize_corporate_number(by_key.get("corporate_number", "")))
    out.bad_names.discard("")
    return out


def _resolve_parents(s: Session, rows: list[_Row], bad_names: set[str]) -> list[RowError]:
    """Each row's parent: another row of the file (by corporate number or name), else a
    contractor in the ledger (by id, corporate number or name). A parent that is one of the
    file's bad rows is not reported again."""
    errors: list[RowError] = []
    by_number: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.fields.corporate_number:
            by_number.setdefault(row.fields.corporate_number, []).append(i)
        by_name.setdefault(normalize_name(row.fields.name), []).append(i)
    for row in rows:
        ref = row.parent
        if not ref:
            continue

        def bad(message: str, row: _Row = row) -> None:
            errors.append(RowError(row.line, _HEADER_OF["parent"], message))

        if is_contractor_id(ref):
            if s.get(ContractorRecord, ref) is None:
                bad(f"委託元 {ref} は台帳にありません。")
            row.parent_id = ref
            continue
        number = normalize_corporate_number(ref) if is_corporate_number(ref) else None
        in_file = by_number.get(number, []) if number else by_name.get(normalize_name(ref), [])
        if len(in_file) == 1:
            row.parent_row = in_file[0]
            continue
        if len(in_file) > 1:
            bad(f"委託元「{ref}」に当たる行が複数あります。法人番号で指定してください。")
            continue
        column = ContractorRecord.corporate_number if number else ContractorRecord.name_key
        found = list(
            s.execute(
                select(ContractorRecord.id)
                .where(column == (number or normalize_name(ref)))
                .limit(2)
            ).scalars()
        )
        if len(found) == 1:
            row.parent_id = found[0]
        elif found:
            bad(
                f"委託元「{ref}」に当たる委託先が台帳に複数あります。法人番号かIDで指定してください。"
            )
        elif (number or normalize_name(ref)) not in bad_names:
            bad(f"委託元「{ref}」はこのファイルにも台帳にもありません。")
    # a row may not be its own ancestor
    for i, row in enumerate(rows):
        seen = {i}
        current = row.parent_row
        while current is not None:
            if current in seen:
                errors.append(
                    RowError(
                        row.line,
                        _HEADER_OF["parent"],
                        "委託元をたどると自分に戻ります（輪になっています）。",
                    )
                )
                break
            seen.add(current)
            current = rows[current].parent_row
    # the same contractor twice under the same parent, or one request on two rows
    seen_keys: dict[tuple[str, str], int] = {}
    seen_requests: dict[str, int] = {}
    for row in rows:
        parent = row.parent_id or (f"row:{row.parent_row}" if row.parent_row is not None else "-")
        other = seen_keys.setdefault((parent, row.identity), row.line)
        if other != row.line:
            errors.append(RowError(row.line, "", f"{other}行目と同じ委託先です。"))
        if row.source_request_id:
            first = seen_requests.setdefault(row.source_request_id, row.line)
            if first != row.line:
                errors.append(
                    RowError(
                        row.line, _HEADER_OF["source_request_id"], f"{first}行目と同じ申請です。"
                    )
                )
    return errors


def _order(rows: list[_Row]) -> list[int]:
    """Row indexes, each parent before its children (the file has no cycles by now)."""
    done: set[int] = set()
    out: list[int] = []
    for i in range(len(rows)):
        path: list[int] = []
        current: int | None = i
        while current is not None and current not in done:
            path.append(current)
            current = rows[current].parent_row
        for j in reversed(path):
            if j not in done:
                done.add(j)
                out.append(j)
    return out


# -- import: writing ------------------------------------------------------------------------------


class _Conflict(Exception):
    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


def import_csv(
    service: ContractorService, data: bytes, actor: str, *, via: str = "csv"
) -> ImportReport:
    """Check every row, then write them all in one transaction, or none."""
    report = ImportReport()
    try:
        text = decode(data)
    except ValueError as e:
        report.errors.append(RowError(1, "", str(e)))
        return report
    read = read_rows(text)
    report.rows = read.count
    rows = read.rows
    if read.errors and read.count == 0:  # the header
        report.errors = read.errors
        return report
    with service.db.session() as s:
        errors = read.errors + _resolve_parents(s, rows, read.bad_names)
    if errors:
        report.errors = sorted(errors, key=lambda e: e.line)  # stable: a row's in column order
        return report

    def work(s: Session) -> ImportReport:
        out = ImportReport(rows=report.rows)
        ids: dict[int, str] = {}
        for i in _order(rows):
            row = rows[i]
            parent_id = ids[row.parent_row] if row.parent_row is not None else row.parent_id
            contractor_id, result = _write(s, row, parent_id, actor, via)
            ids[i] = contractor_id
            {"created": out.created, "updated": out.updated, "unchanged": out.unchanged}[
                result
            ].append(contractor_id)
        if out.created or out.updated:
            audit.append(
                s,
                actor,
                "contractors_imported",
                None,
                {
                    "via": via,
                    "rows": out.rows,
                    "created": len(out.created),
                    "updated": len(out.updated),
                    "unchanged": len(out.unchanged),
                    "file": audit.digest(s, text),
                },
            )
        return out

    try:
        return service.db.transact(work)
    except _Conflict as e:
        report.errors = [e.error]
        return report


def _write(s: Session, row: _Row, parent_id: str | None, actor: str, via: str) -> tuple[str, str]:
    """(contractor id, "created" | "updated" | "unchanged") for one checked row."""
    values = stored_values(row.fields)
    key = ledger_key(parent_id, row.fields.name, row.fields.corporate_number)
    existing = s.execute(
        select(ContractorRecord).where(ContractorRecord.ledger_key == key)
    ).scalar_one_or_none()
    if existing is None and row.fields.corporate_number:
        # registered earlier without its corporate number: the number is added to it
        by_name = ledger_key(parent_id, row.fields.name, None)
        existing = s.execute(
            select(ContractorRecord).where(ContractorRecord.ledger_key == by_name)
        ).scalar_one_or_none()
    if row.source_request_id:
        holder = s.execute(
            select(ContractorRecord.id).where(
                ContractorRecord.source_request_id == row.source_request_id
            )
        ).scalar()
        if holder is not None and (existing is None or holder != existing.id):
            raise _Conflict(
                RowError(
                    row.line,
                    _HEADER_OF["source_request_id"],
                    f"{row.source_request_id} は台帳の {holder} の申請です。",
                )
            )
    details = {"via": via, "line": row.line}
    if existing is None:
        result, contractor_id, message = _insert(
            s,
            actor,
            values,
            owner=row.owner,
            parent_id=parent_id,
            source_request_id=row.source_request_id,
            action="contractor_registered",
            details=details,
        )
        if contractor_id is None:
            raise _Conflict(RowError(row.line, "", message))
        return contractor_id, "created"
    result, message = _apply(
        s,
        existing,
        actor,
        values,
        owner=row.owner,
        parent_id=parent_id,
        key=key,
        action="contractor_updated",
        details=details,
        source_request_id=row.source_request_id,
    )
    if result is Result.UNCHANGED:
        return existing.id, "unchanged"
    if result is not Result.RECORDED:
        raise _Conflict(RowError(row.line, "", message))
    return existing.id, "updated"

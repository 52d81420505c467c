"""Bulk import and export of the inventory (agencies, sites, devices, uplinks) as CSV or YAML.

Import: file bytes → parsed rows → references resolved by name/code → the same schemas and services
the API uses (each row in a SAVEPOINT) → a report of every bad row; nothing is kept unless every row is good.
Export: services' lists → the same columns import reads, secrets never included.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction

from netmgr.errors import Conflict, NetmgrError, RowError, ValidationFailed
from netmgr.models import Agency, Device, Site, Uplink
from netmgr.schemas.inventory import (
    AgencyCreate,
    AgencyUpdate,
    DeviceCreate,
    DeviceUpdate,
    SiteCreate,
    SiteUpdate,
    UplinkCreate,
    UplinkUpdate,
)
from netmgr.security.formulas import SafeCsvWriter, restore_csv_text
from netmgr.security.permissions import Actor, Permission
from netmgr.services import agencies, audit, devices, sites, uplinks

FILE_ROW = 0
"""Row number used for problems with the file as a whole (encoding, YAML syntax); the reason gives the line."""

MAX_ROWS = 100_000
_LIST_ALL = 10_000_000  # the list services page; an export wants every row in one page

Progress = Callable[[int, int], None]


class ImportKind(StrEnum):
    AGENCIES = "agencies"
    SITES = "sites"
    DEVICES = "devices"
    UPLINKS = "uplinks"


class DataFormat(StrEnum):
    CSV = "csv"
    YAML = "yaml"


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do): counts and every bad row."""

    kind: ImportKind
    dry_run: bool
    total_rows: int
    errors: list[RowError]
    created: int = 0
    updated: int = 0
    updates: list[tuple[int, str]] = field(default_factory=list)
    """(row number, key) of every row that changes an existing object instead of creating one."""

    @property
    def ok(self) -> bool:
        """No row had a problem."""
        return not self.errors

    @property
    def applied(self) -> bool:
        """The rows were written (a real run with no errors); the caller's commit makes it permanent."""
        return not self.dry_run and self.ok


@dataclass(frozen=True)
class _Spec:
    """The columns of one kind, as import reads them and export writes them."""

    key: str  # the unique column that says "this row is that existing object"
    columns: tuple[str, ...]  # exported, in this order
    required: frozenset[str]  # a CSV header must name these
    unique: tuple[str, ...]  # no two rows of one file may share these
    numeric: frozenset[str] = frozenset()
    secrets: tuple[str, ...] = ()  # accepted on import, never exported
    references: Mapping[str, str] = field(default_factory=dict)  # file column -> schema field

    @property
    def accepted(self) -> tuple[str, ...]:
        return self.columns + self.secrets


SPECS: dict[ImportKind, _Spec] = {
    ImportKind.AGENCIES: _Spec(
        key="code",
        columns=("code", "name", "contact_email", "notes"),
        required=frozenset({"code", "name"}),
        unique=("code", "name"),
    ),
    ImportKind.SITES: _Spec(
        key="name",
        columns=("name", "kind", "agency", "address", "latitude", "longitude", "notes"),
        required=frozenset({"name", "kind"}),
        unique=("name",),
        numeric=frozenset({"latitude", "longitude"}),
        references={"agency": "agency_id"},
    ),
    ImportKind.DEVICES: _Spec(
        key="name",
        columns=(
            "name", "site", "role", "platform", "mgmt_address", "ssh_port", "snmp_port", "snmp_version",
            "snmp_v3_user", "snmp_v3_auth_protocol", "snmp_v3_priv_protocol", "snmp_context", "ssh_username",
            "tags", "vendor", "model", "serial", "notes",
        ),
        required=frozenset({"name", "site", "role", "platform", "mgmt_address"}),
        unique=("name", "mgmt_address"),
        numeric=frozenset({"ssh_port", "snmp_port"}),
        secrets=tuple(devices.SECRET_FIELDS),
        references={"site": "site_id"},
    ),
    ImportKind.UPLINKS: _Spec(
        key="name",
        columns=(
            "name", "isp_name", "device", "interface_name", "capacity_down_mbps", "capacity_up_mbps",
            "monthly_price_idr", "tax_percent", "billing_model", "committed_mbps", "price_per_gb_idr",
            "contract_start", "contract_end", "sla_availability_percent", "sla_max_latency_ms",
            "sla_max_loss_percent", "sla_restitution_cap_percent", "probe_address", "notes",
        ),
        required=frozenset({"name", "isp_name", "capacity_down_mbps", "capacity_up_mbps", "monthly_price_idr"}),
        unique=("name",),
        numeric=frozenset({
            "capacity_down_mbps", "capacity_up_mbps", "monthly_price_idr", "tax_percent", "committed_mbps",
            "price_per_gb_idr", "sla_availability_percent", "sla_max_latency_ms", "sla_max_loss_percent",
            "sla_restitution_cap_percent",
        }),
        references={"device": "device_id"},
    ),
}

_SCHEMAS: dict[ImportKind, tuple[type[BaseModel], type[BaseModel]]] = {
    ImportKind.AGENCIES: (AgencyCreate, AgencyUpdate),
    ImportKind.SITES: (SiteCreate, SiteUpdate),
    ImportKind.DEVICES: (DeviceCreate, DeviceUpdate),
    ImportKind.UPLINKS: (UplinkCreate, UplinkUpdate),
}


_ENTITY = {ImportKind.AGENCIES: "agency", ImportKind.SITES: "site", ImportKind.DEVICES: "device",
           ImportKind.UPLINKS: "uplink"}


@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # column -> value; None means the cell was empty
    extra_cells: int = 0  # cells beyond the header's columns (a CSV row that cannot be read as meant)
    other_separator: str = ""  # a one-cell CSV row whose values another separator seems to split …
    separator: str = ","  # … while the header's columns are split by this one


def detect_format(filename: str) -> DataFormat:
    """The data format implied by a file name (``.csv``, ``.yaml`` or ``.yml``).

    Raises:
        ValidationFailed: the extension is none of those.
    """
    lower = filename.lower()
    if lower.endswith((".csv", ".txt")):
        return DataFormat.CSV
    if lower.endswith((".yaml", ".yml")):
        return DataFormat.YAML
    raise ValidationFailed(
        f"cannot tell the format of {filename!r}: name it .csv, .yaml or .yml, or give the format explicitly",
        field="format",
    )


# --- parsing ----------------------------------------------------------------------------------


class _FileProblem(Exception):
    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


def _expected(spec: _Spec) -> str:
    return ", ".join(spec.accepted)


_EXCEL_HINT = "; an Excel workbook must first be saved as 'CSV UTF-8'"


def _decode(content: bytes | str, fmt: DataFormat) -> str:
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            excel = content[:2] == b"PK"
            hint = _EXCEL_HINT if excel else " (save it as UTF-8)"
            reason = f"the file is not UTF-8 text: undecodable byte at line {line}{hint}"
            raise _FileProblem(RowError(line if fmt == DataFormat.CSV else FILE_ROW, None, reason,
                                        code="not_utf8_excel" if excel else "not_utf8",
                                        values=(("line", str(line)),))) from exc
    else:
        text = content.removeprefix("\ufeff")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        reason = f"this is a binary file, not {fmt.value.upper()} text (NUL byte at line {line}){_EXCEL_HINT}"
        raise _FileProblem(RowError(line if fmt == DataFormat.CSV else FILE_ROW, None, reason, code="binary_file",
                                    values=(("format", fmt.value.upper()), ("line", str(line)))))
    return text


def _header_delimiter(first_line: str) -> str:
    # Excel in an Indonesian locale saves "CSV" with semicolons, because the comma is the decimal mark.
    for delimiter in (",", ";", "\t"):
        if delimiter in first_line:
            return delimiter
    return ","


def _clean_cell(value: str, *, secret: bool) -> str | None:
    # Secrets are taken as typed: a leading or trailing space may be part of a password.
    if not value.strip():
        return None
    return value if secret else restore_csv_text(value.strip())


def _parse_csv(text: str, spec: _Spec) -> list[_Row]:
    """Rows of a CSV file with a header; errors in the header stop the import at row 1."""
    if not text.strip():
        raise _FileProblem(_empty(spec))
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_header_delimiter(first_line))
    try:
        header: list[str] | None = None
        header_row = 1
        rows: list[_Row] = []
        previous_end = 0
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header, header_row = [c.strip().lower() for c in cells], start
                _check_header(header, header_row, spec)
                continue
            if len(rows) >= MAX_ROWS:
                raise _FileProblem(RowError(start, None, f"too many rows; import at most {MAX_ROWS} at a time",
                                            code="too_many_rows", values=(("max", str(MAX_ROWS)),)))
            if len(cells) == 1 < len(header) and (found := _other_separator(cells[0], reader.dialect.delimiter)):
                rows.append(_Row(start, {}, other_separator=found, separator=reader.dialect.delimiter))
                continue
            if len(cells) > len(header):
                rows.append(_Row(start, {}, extra_cells=len(cells) - len(header)))
                continue
            values = {col: _clean_cell(cells[i], secret=col in spec.secrets) if i < len(cells) else None
                      for i, col in enumerate(header)}
            rows.append(_Row(start, values))
    except csv.Error as exc:
        raise _FileProblem(RowError(reader.line_num, None, f"this is not a readable CSV file: {exc}",
                                    code="unreadable_csv", values=(("error", str(exc)),))) from exc
    if header is None:
        raise _FileProblem(_empty(spec))
    return rows


def _empty(spec: _Spec) -> RowError:
    return RowError(1, None, f"the file is empty; expected a header row naming: {_expected(spec)}",
                    code="empty_file", values=(("expected", _expected(spec)),))


_SEPARATORS = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


def _other_separator(cell: str, delimiter: str) -> str:
    """How a one-cell line's values seem to be separated, when not by ``delimiter`` (empty if they do not)."""
    for separator in (",", ";", "\t", "|"):
        if separator != delimiter and cell.count(separator) >= 1:
            return separator
    return ""


def _check_header(header: list[str], row: int, spec: _Spec) -> None:
    unknown = [c for c in header if c not in spec.accepted]
    if len(header) == 1 and unknown and len(spec.required) > 1:
        raise _FileProblem(RowError(
            row, None, f"the header is one column, {header[0]!r}: separate the columns with commas or semicolons",
            code="one_column_header", values=(("header", repr(header[0])),)))
    if unknown:
        names = ", ".join(repr(c) for c in unknown)
        raise _FileProblem(RowError(row, unknown[0], f"unknown column(s) {names}; expected columns: {_expected(spec)}",
                                    code="unknown_columns",
                                    values=(("names", names), ("expected", _expected(spec)))))
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise _FileProblem(RowError(row, duplicated[0], f"column(s) {', '.join(duplicated)} appear more than once",
                                    code="duplicate_columns", values=(("names", ", ".join(duplicated)),)))
    missing = [c for c in spec.columns if c in spec.required and c not in header]
    if missing:
        raise _FileProblem(RowError(
            row, missing[0], f"missing required column(s) {', '.join(missing)}; expected columns: {_expected(spec)}",
            code="missing_columns", values=(("names", ", ".join(missing)), ("expected", _expected(spec)))))


def _yaml_scalar(column: str, value: Any, spec: _Spec) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return value if column in spec.secrets else value.strip()
    # YAML turns `community: 12345` into an int; text columns want the text the person wrote.
    if isinstance(value, int | float) and not isinstance(value, bool) and column not in spec.numeric:
        return str(value)
    return value


def _parse_yaml(text: str, kind: ImportKind, spec: _Spec) -> tuple[list[_Row], list[RowError]]:
    """Items of a YAML list (or of ``{kind: [...]}``); row numbers are 1-based item positions."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, C or pure Python
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if mark is None:
            raise _FileProblem(RowError(FILE_ROW, None, f"invalid YAML: {exc.problem}", code="invalid_yaml_file",
                                        values=(("error", str(exc.problem)),))) from exc
        raise _FileProblem(RowError(
            FILE_ROW, None, f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {exc.problem}",
            code="invalid_yaml", values=(("line", str(mark.line + 1)), ("column", str(mark.column + 1)),
                                         ("error", str(exc.problem))))) from exc
    except yaml.YAMLError as exc:
        raise _FileProblem(RowError(FILE_ROW, None, f"invalid YAML: {exc}", code="invalid_yaml_file",
                                    values=(("error", str(exc)),))) from exc
    if data is None:
        return [], []
    if isinstance(data, dict):
        others = [str(k) for k in data if k != kind.value]
        if others or kind.value not in data:
            found = ", ".join(repr(k) for k in data) or "nothing"
            raise _FileProblem(RowError(
                FILE_ROW, None, f"expected a list of {kind.value} (or a mapping with the one key {kind.value!r}); "
                f"found keys {found}", code="yaml_not_a_list", values=(("kind", kind.value), ("found", found))))
        data = data[kind.value] or []
    if not isinstance(data, list):
        raise _FileProblem(RowError(FILE_ROW, None, f"expected a list of {kind.value}, found {type(data).__name__}",
                                    code="yaml_not_a_list", values=(("kind", kind.value),
                                                                    ("found", type(data).__name__))))
    if len(data) > MAX_ROWS:
        raise _FileProblem(RowError(FILE_ROW, None, f"too many items; import at most {MAX_ROWS} at a time",
                                    code="too_many_rows", values=(("max", str(MAX_ROWS)),)))
    rows: list[_Row] = []
    errors: list[RowError] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(number, None, f"each item must be a mapping of column: value; expected columns: "
                                                 f"{_expected(spec)}", code="yaml_item_not_mapping",
                                   values=(("expected", _expected(spec)),)))
            continue
        unknown = [str(k) for k in item if str(k) not in spec.accepted]
        if unknown:
            errors.append(RowError(number, unknown[0], f"unknown column(s) {', '.join(repr(k) for k in unknown)}; "
                                                       f"expected columns: {_expected(spec)}"))
            continue
        values: dict[str, Any] = {}
        for key, value in item.items():
            column = str(key)
            if column == "tags" and isinstance(value, list):
                values[column] = [str(v).strip() for v in value if v is not None and str(v).strip()]
            else:
                values[column] = _yaml_scalar(column, value, spec)
        rows.append(_Row(number, values))
    return rows, errors


# --- checking and applying --------------------------------------------------------------------


class _Lookups:
    """Existing rows by the names a file uses, loaded once per import (not once per row)."""

    def __init__(self, session: Session, kind: ImportKind) -> None:
        self.session = session
        self.agencies: dict[str, int] = {}
        self.sites: dict[str, int] = {}
        self.devices: dict[str, int] = {}
        # Held here so they stay in the session's (weak) identity map, where the services' checks find them
        # without a query per row.
        self._loaded: list[object] = []
        if kind == ImportKind.SITES:
            self.agencies = dict(session.execute(select(Agency.code, Agency.id)).all())
        if kind == ImportKind.DEVICES:
            self._loaded = list(session.scalars(select(Site)))
            self.sites = {s.name: s.id for s in self._loaded if isinstance(s, Site)}
        if kind == ImportKind.UPLINKS:
            self.devices = dict(session.execute(select(Device.name, Device.id)).all())
        model: Any = {ImportKind.AGENCIES: Agency, ImportKind.SITES: Site, ImportKind.DEVICES: Device,
                      ImportKind.UPLINKS: Uplink}[kind]
        key = model.code if kind == ImportKind.AGENCIES else model.name
        self.existing: dict[str, int] = dict(session.execute(select(key, model.id)).all())

    def resolve(self, column: str, value: str) -> tuple[int | None, str | None]:
        """(id, None) for a known name, else (None, a reason that suggests the closest names)."""
        table, label = {
            "agency": (self.agencies, "agency code"),
            "site": (self.sites, "site"),
            "device": (self.devices, "device"),
        }[column]
        found = table.get(value)
        if found is None and column == "agency":
            found = table.get(value.upper())
        if found is not None:
            return found, None
        close = difflib.get_close_matches(value, list(table), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return None, f"{label} {value!r} does not exist{hint}"

    def suggestions(self, column: str, value: str) -> str:
        """The closest known names to ``value`` (for the reader's own wording of a reference error)."""
        table = {"agency": self.agencies, "site": self.sites, "device": self.devices}[column]
        return ", ".join(difflib.get_close_matches(value, list(table), n=3))


_CONFLICT_FIELD = re.compile(r" with (\w+) ")


def _field_of(spec: _Spec, schema_field: str | None) -> str | None:
    if schema_field is None:
        return None
    for column, target in spec.references.items():
        if target == schema_field:
            return column
    return schema_field


def _pydantic_errors(number: int, spec: _Spec, exc: ValidationError, skip: set[str]) -> list[RowError]:
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = err.get("loc", ())
        column = _field_of(spec, str(loc[0])) if loc else None
        if column in skip:
            continue
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        context = {k: str(v) for k, v in (err.get("ctx") or {}).items() if k != "error"}
        out.append(RowError(number, column, message, code=str(err.get("type", "")),
                            values=tuple(sorted(context.items()))))
    return out


def _service_error(number: int, spec: _Spec, exc: NetmgrError) -> RowError:
    column: str | None = None
    if isinstance(exc, ValidationFailed):
        column = _field_of(spec, exc.field)
    elif isinstance(exc, Conflict):
        match = _CONFLICT_FIELD.search(exc.message)
        column = match.group(1) if match else None
    return RowError(number, column, exc.message)


def _duplicates(rows: list[_Row], spec: _Spec) -> dict[int, list[RowError]]:
    seen: dict[tuple[str, str], int] = {}
    out: dict[int, list[RowError]] = {}
    for row in rows:
        for column in spec.unique:
            value = row.values.get(column)
            if not isinstance(value, str | int | float) or value == "":
                continue
            norm = str(value).strip().lower() if column == "mgmt_address" else str(value).strip()
            first = seen.setdefault((column, norm), row.number)
            if first != row.number:
                reason = f"{column} {value!r} is also on row {first}; each {column} may appear only once"
                values = (("first", str(first)), ("value", str(value)))
                out.setdefault(row.number, []).append(RowError(row.number, column, reason, code="duplicate",
                                                               values=values))
    return out


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [t.strip() for t in str(value).split(";") if t.strip()]


def _schema_data(row: _Row, spec: _Spec, lookups: _Lookups, *, creating: bool,
                 create_schema: type[BaseModel]) -> tuple[dict[str, Any], list[RowError], set[str]]:
    """The row as schema input: references turned into ids. Returns (data, reference errors, bad columns)."""
    data: dict[str, Any] = {}
    errors: list[RowError] = []
    bad: set[str] = set()
    for column, value in row.values.items():
        if column in spec.secrets:
            if value is not None:  # an empty secret cell keeps the stored secret
                data[column] = str(value)
            continue
        if column in spec.references and value is not None:
            target = spec.references[column]
            found, reason = lookups.resolve(column, str(value))
            if reason is not None:
                errors.append(RowError(row.number, column, reason, code="unknown_reference", values=(
                    ("value", str(value)), ("suggestions", lookups.suggestions(column, str(value))))))
                bad.add(column)
            else:
                data[target] = found
            continue
        if column == "tags":
            data[column] = _tags(value)
            continue
        if value is None:
            if creating:
                continue  # the schema's default applies, or it says the field is required
            target = spec.references.get(column, column)
            info = create_schema.model_fields.get(target)
            if info is not None and info.is_required():
                errors.append(RowError(row.number, column, "a value is required", code="missing"))
                bad.add(column)
                continue
            # Updating: an empty cell sets the field back to its default (for example, clears the notes).
            data[target] = info.get_default(call_default_factory=True) if info is not None else None
            continue
        data[column] = value
    return data, errors, bad


def _apply_row(session: Session, actor: Actor, kind: ImportKind, existing_id: int | None, model: BaseModel) -> None:
    if kind == ImportKind.AGENCIES:
        if existing_id is None:
            agencies.create_agency(session, actor, model)  # type: ignore[arg-type]
        else:
            agencies.update_agency(session, actor, existing_id, model)  # type: ignore[arg-type]
    elif kind == ImportKind.SITES:
        if existing_id is None:
            sites.create_site(session, actor, model)  # type: ignore[arg-type]
        else:
            sites.update_site(session, actor, existing_id, model)  # type: ignore[arg-type]
    elif kind == ImportKind.DEVICES:
        if existing_id is None:
            devices.create_device(session, actor, model)  # type: ignore[arg-type]
        else:
            devices.update_device(session, actor, existing_id, model)  # type: ignore[arg-type]
    elif existing_id is None:
        uplinks.create_uplink(session, actor, model)  # type: ignore[arg-type]
    else:
        uplinks.update_uplink(session, actor, existing_id, model)  # type: ignore[arg-type]


def _db_error(number: int, exc: DBAPIError) -> RowError:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return RowError(number, None, f"the database refused this row: {detail}")


def import_inventory(
    session: Session,
    actor: Actor,
    *,
    kind: ImportKind,
    fmt: DataFormat,
    content: bytes | str,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of a CSV or YAML file and, unless it is a dry run or a row is bad, write them all.

    Rows name related things: a site its ``agency`` by code, a device its ``site`` by name, an uplink its
    ``device`` by name; ``tags`` are ``;``-separated in CSV and a list in YAML. A row whose key (an agency's
    ``code``, otherwise ``name``) matches an existing object UPDATES that object: columns the file does not
    have are left as they are, empty cells set the field back to its default, and empty secret cells keep
    the stored secret. Other rows are created. Each row goes through the same schemas and services as the
    API, so it gets the same checks, per-object audit entries and secret encryption.

    All-or-nothing: the rows are applied inside a SAVEPOINT that is rolled back on a dry run or when any
    row is bad; otherwise it is released and one summary audit entry is added. The caller commits.

    Args:
        content: the file, as bytes (must be UTF-8, a BOM is fine) or text.
        progress: called with (rows done, total rows) as the rows are checked.

    Returns:
        The report; ``report.errors`` lists every bad row (row numbers as a person sees them: CSV line
        numbers counting the header as 1; YAML 1-based item positions; ``FILE_ROW`` for the file as a whole).

    Raises:
        PermissionDenied: the actor may not change the inventory.
    """
    actor.require(Permission.INVENTORY_WRITE)
    spec = SPECS[kind]
    report = ImportReport(kind=kind, dry_run=dry_run, total_rows=0, errors=[])
    try:
        text = _decode(content, fmt)
        parse_errors: list[RowError] = []
        if fmt == DataFormat.CSV:
            rows = _parse_csv(text, spec)
        else:
            rows, parse_errors = _parse_yaml(text, kind, spec)
    except _FileProblem as problem:
        report.errors.append(problem.error)
        return report
    report.total_rows = len(rows) + len(parse_errors)
    report.errors.extend(parse_errors)
    for row in rows:
        if row.extra_cells:
            report.errors.append(RowError(row.number, None, f"{row.extra_cells} more cell(s) than the header has "
                                                            "columns (is a value with a comma unquoted?)",
                                          code="extra_cells", values=(("n", str(row.extra_cells)),)))
        if row.other_separator:
            found, expected = _SEPARATORS[row.other_separator], _SEPARATORS.get(row.separator, row.separator)
            report.errors.append(RowError(
                row.number, None, f"this row is one cell but the header has several columns: are its values "
                f"separated by {found} while the header uses {expected}?", code="row_separator",
                values=(("found", found), ("expected", expected))))
    rows = [r for r in rows if not r.extra_cells and not r.other_separator]

    duplicates = _duplicates(rows, spec)
    lookups = _Lookups(session, kind)
    outer = session.begin_nested()
    try:
        done = len(parse_errors)
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start:start + _CHUNK]
            good: list[_Checked] = []
            for row in chunk:
                checked, row_errors = _check_row(kind, spec, row, lookups, duplicates.get(row.number, []))
                report.errors.extend(row_errors)
                if checked is not None:
                    good.append(checked)
            _apply_chunk(session, actor, kind, spec, good, report, outer)
            done += len(chunk)
            if progress is not None:
                progress(done, report.total_rows)
    except BaseException:
        if outer.is_active:
            outer.rollback()
        raise
    report.errors.sort(key=lambda e: e.row)
    report.updates.sort()
    if dry_run or not report.ok:
        outer.rollback()
        return report
    outer.commit()
    audit.record(session, actor, action="import", entity_type=_ENTITY[kind],
                 message="inventory.imported",
                 params={"rows": report.total_rows, "import_kind": kind.value, "format": fmt.value.upper(),
                         "created": report.created, "updated": report.updated},
                 after={"kind": kind.value, "format": fmt.value, "rows": report.total_rows,
                        "created": report.created, "updated": report.updated})
    session.flush()
    return report


_CHUNK = 50  # rows applied under one SAVEPOINT; a chunk with a bad row is redone one SAVEPOINT per row


@dataclass(frozen=True)
class _Checked:
    number: int
    existing_id: int | None
    model: BaseModel
    key: str = ""


def _check_row(kind: ImportKind, spec: _Spec, row: _Row, lookups: _Lookups,
               errors: list[RowError]) -> tuple[_Checked | None, list[RowError]]:
    """The row as a validated schema object, or its errors (references, schema rules, duplicates)."""
    errors = list(errors)
    create_schema, update_schema = _SCHEMAS[kind]
    key_value = row.values.get(spec.key)
    lookup_key = str(key_value) if key_value is not None else ""
    if kind == ImportKind.AGENCIES and lookup_key not in lookups.existing:
        lookup_key = lookup_key.upper()
    existing_id = lookups.existing.get(lookup_key)
    data, ref_errors, bad = _schema_data(row, spec, lookups, creating=existing_id is None,
                                         create_schema=create_schema)
    errors.extend(ref_errors)
    schema = create_schema if existing_id is None else update_schema
    try:
        model = schema.model_validate(data)
    except ValidationError as exc:
        errors.extend(_pydantic_errors(row.number, spec, exc, skip=bad))
        return None, errors
    if errors:
        return None, errors
    return _Checked(row.number, existing_id, model, lookup_key), []


def _apply_chunk(session: Session, actor: Actor, kind: ImportKind, spec: _Spec, chunk: list[_Checked],
                 report: ImportReport, outer: SessionTransaction) -> None:
    """Apply rows through the services: the chunk in one SAVEPOINT, or row by row if any row is refused."""
    if not chunk:
        return
    try:
        # The services flush each object themselves; without autoflush the audit entry a row leaves pending
        # goes out with the next row's flush instead of costing a flush of its own.
        with session.begin_nested(), session.no_autoflush:
            for item in chunk:
                _apply_row(session, actor, kind, item.existing_id, item.model)
    except (NetmgrError, DBAPIError) as exc:
        _check_outer(outer, exc)
    else:
        _count_applied(report, chunk)
        return
    for item in chunk:
        try:
            with session.begin_nested():
                _apply_row(session, actor, kind, item.existing_id, item.model)
        except NetmgrError as exc:
            _check_outer(outer, exc)
            report.errors.append(_service_error(item.number, spec, exc))
        except DBAPIError as exc:
            _check_outer(outer, exc)
            report.errors.append(_db_error(item.number, exc))
        else:
            _count_applied(report, [item])


def _check_outer(outer: SessionTransaction, exc: Exception) -> None:
    if not outer.is_active:
        # A service rolled the whole transaction back (a unique-constraint race): the import cannot go on.
        raise Conflict("the inventory changed while the file was being imported; run the import again") from exc


def _count_applied(report: ImportReport, items: list[_Checked]) -> None:
    for item in items:
        if item.existing_id is None:
            report.created += 1
        else:
            report.updated += 1
            report.updates.append((item.number, item.key))


# --- export -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def _export_rows(session: Session, actor: Actor, kind: ImportKind) -> Iterator[dict[str, Any]]:
    spec = SPECS[kind]
    if kind == ImportKind.AGENCIES:
        for agency in agencies.list_agencies(session, actor, limit=_LIST_ALL).items:
            yield {c: _plain(getattr(agency, c)) for c in spec.columns}
    elif kind == ImportKind.SITES:
        codes = dict(session.execute(select(Agency.id, Agency.code)).all())
        for site in sites.list_sites(session, actor, limit=_LIST_ALL).items:
            row = {c: _plain(getattr(site, c)) for c in spec.columns if c != "agency"}
            row["agency"] = codes.get(site.agency_id) if site.agency_id is not None else None
            yield {c: row[c] for c in spec.columns}
    elif kind == ImportKind.DEVICES:
        site_names = dict(session.execute(select(Site.id, Site.name)).all())
        for device in devices.list_devices(session, actor, limit=_LIST_ALL).items:
            row = {c: _plain(getattr(device, c)) for c in spec.columns if c not in ("site", "tags")}
            row["site"] = site_names[device.site_id]
            row["tags"] = [t.name for t in device.tags]
            yield {c: row[c] for c in spec.columns}
    else:
        device_names = dict(session.execute(select(Device.id, Device.name)).all())
        for uplink in uplinks.list_uplinks(session, actor, limit=_LIST_ALL).items:
            row = {c: _plain(getattr(uplink, c)) for c in spec.columns if c != "device"}
            row["device"] = device_names.get(uplink.device_id) if uplink.device_id is not None else None
            yield {c: row[c] for c in spec.columns}


def _csv_cell(value: Any) -> Any:
    """Text, or a number left as a number so ``SafeCsvWriter`` never quotes a negative latitude."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return str(value)


def export_inventory(session: Session, actor: Actor, *, kind: ImportKind, fmt: DataFormat) -> str:
    """The inventory rows the actor may see, in the format ``import_inventory`` reads. Secrets are never included.

    CSV has a header row with every column; YAML is ``{kind: [ {column: value}, ... ]}`` with empty values left out.
    """
    actor.require(Permission.INVENTORY_READ)
    spec = SPECS[kind]
    rows = list(_export_rows(session, actor, kind))
    if fmt == DataFormat.CSV:
        out = io.StringIO()
        writer = SafeCsvWriter(out)
        writer.writerow(spec.columns)
        for row in rows:
            writer.writerow([_csv_cell(row[c]) for c in spec.columns])
        return out.getvalue()
    items = [{c: v for c, v in row.items() if v is not None and v != "" and v != []} for row in rows]
    return yaml.safe_dump({kind.value: items}, sort_keys=False, allow_unicode=True, default_flow_style=False)

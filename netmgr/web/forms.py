"""HTML forms: field descriptions, form data → schema input, and errors shown next to their fields.

Validation stays in the schemas and services (the same rules as the API and the import); this module only
converts strings from the browser and translates the resulting errors into the user's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from starlette.datastructures import FormData

from netmgr.errors import Conflict, NetmgrError, ValidationFailed

FieldKind = Literal["text", "textarea", "number", "decimal", "select", "password", "date", "email", "tags",
                    "checkbox"]
GENERAL = "__all__"


@dataclass(frozen=True)
class FieldSpec:
    """One input of a form. ``label`` and ``help`` are English msgids translated when rendering."""

    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = False
    nullable: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    translate_choices: bool = True


@dataclass
class FormState:
    """What the form template shows: values to pre-fill, stored secrets and errors per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    stored_secrets: frozenset[str] = frozenset()

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


def form_values(form: FormData, specs: Iterable[FieldSpec]) -> dict[str, str]:
    """The submitted strings for ``specs`` (secrets are never echoed back into the page)."""
    out: dict[str, str] = {}
    for spec in specs:
        if spec.kind == "password":
            continue
        raw = form.get(spec.name)
        out[spec.name] = raw.strip() if isinstance(raw, str) else ""
    return out


def to_payload(form: FormData, specs: Iterable[FieldSpec], *, creating: bool) -> dict[str, Any]:
    """Browser strings → schema input. Empty inputs are left out on create (defaults apply);
    on edit, empty nullable fields become None, empty texts "", and empty secrets mean "keep"."""
    payload: dict[str, Any] = {}
    for spec in specs:
        raw = form.get(spec.name)
        text = raw.strip() if isinstance(raw, str) else ""
        if spec.kind == "checkbox":
            payload[spec.name] = text in ("on", "true", "1")
            continue
        if spec.kind == "password":
            if isinstance(raw, str) and raw:
                payload[spec.name] = raw
            continue
        if spec.kind == "tags":
            payload[spec.name] = [t.strip() for t in text.split(",") if t.strip()]
            continue
        if text == "":
            if creating:
                continue
            if spec.nullable:
                payload[spec.name] = None
            elif spec.kind in ("text", "textarea", "email"):
                payload[spec.name] = ""
            continue
        payload[spec.name] = text
    return payload


def _pydantic_message(err: Mapping[str, Any], gettext: Callable[[str], str]) -> str:
    kind = str(err.get("type", ""))
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    messages: dict[str, str] = {
        "missing": gettext("This field is required."),
        "string_too_short": gettext("Too short: at least %(n)s characters."),
        "string_too_long": gettext("Too long: at most %(n)s characters."),
        "string_pattern_mismatch": gettext("Wrong format; check the example."),
        "int_parsing": gettext("Enter a whole number."),
        "int_from_float": gettext("Enter a whole number."),
        "float_parsing": gettext("Enter a number."),
        "greater_than": gettext("Must be greater than %(n)s."),
        "greater_than_equal": gettext("Must be at least %(n)s."),
        "less_than": gettext("Must be less than %(n)s."),
        "less_than_equal": gettext("Must be at most %(n)s."),
        "enum": gettext("Choose one of the options."),
        "literal_error": gettext("Choose one of the options."),
        "date_from_datetime_parsing": gettext("Enter a date (YYYY-MM-DD)."),
        "date_parsing": gettext("Enter a date (YYYY-MM-DD)."),
        "bool_parsing": gettext("Choose yes or no."),
    }
    if kind in messages:
        bound = next((ctx[k] for k in ("min_length", "max_length", "gt", "ge", "lt", "le") if k in ctx), "")
        return messages[kind] % {"n": bound} if "%(n)s" in messages[kind] else messages[kind]
    text = str(err.get("msg", "")).removeprefix("Value error, ")
    return gettext(text)


def apply_validation_error(state: FormState, exc: ValidationError, gettext: Callable[[str], str],
                           field_names: Iterable[str]) -> None:
    known = set(field_names)
    for err in exc.errors():
        loc = err.get("loc", ())
        name = str(loc[0]) if loc else GENERAL
        state.add_error(name if name in known else GENERAL, _pydantic_message(err, gettext))


_CONFLICT_RE = re.compile(r"^an? \w+ with (?P<field>\w+) .* already exists$")


def apply_service_error(state: FormState, exc: NetmgrError, gettext: Callable[[str], str],
                        field_names: Iterable[str]) -> None:
    """Put a service's ValidationFailed / Conflict next to the field it names, else above the form."""
    known = set(field_names)
    if isinstance(exc, Conflict):
        match = _CONFLICT_RE.match(exc.message)
        if match and match["field"] in known:
            state.add_error(match["field"], gettext("Already used by another record."))
            return
    if isinstance(exc, ValidationFailed) and exc.field in known and exc.field is not None:
        state.add_error(exc.field, gettext(exc.message))
        return
    state.add_error(GENERAL, gettext(exc.message))


def enum_choices(values: Iterable[str], labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((v, labels.get(v, v)) for v in values)

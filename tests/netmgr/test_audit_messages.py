"""Every audit sentence the code can write is rendered in Indonesian, with no English left, from its key and values.

The writers are found by reading the source (every ``audit.record`` / ``audit.record_many`` call in netmgr and the
capability packages), so a new call with a new key, action or kind is checked without editing this test.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache

import pytest
from sqlalchemy.orm import Session

from netmgr import formats
from netmgr.security.permissions import SYSTEM
from netmgr.services import audit, audit_messages
from netmgr.services.audit_messages import MESSAGES, WORDS
from netmgr.web.labels import AUDIT_ACTIONS, ENTITY_TYPES
from tests.sources import parsed_modules

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Words both languages write the same way: abbreviations, product names, the law's name, and the loanwords the
# Indonesian UI uses throughout (its catalog says "token API", "batch voucher", "rencana bandwidth" too).
SHARED = {"api", "sha-", "sms", "cir", "mir", "mbps", "uu", "pdp", "otp", "http", "telegram", "csv", "yaml", "rp",
          "snmp", "token", "batch", "voucher", "bandwidth", "provisioning", "uplink", "hotspot", "portal", "gateway",
          "internet", "data", "administrator", "pagu"}
SAMPLE = {"name": "Taman Kota Sampit", "prefix": "nm_4f2a9c1", "agency": "DISKOMINFO", "format": "CSV",
          "month": "2026-11", "sha": "0123456789ab", "phone": "+62 812 •••• 6789", "mac": "AA:BB:••:••:EE:FF",
          "note": "Rapat pleno", "device": "core-diskominfo", "approver": "admin1", "platform": "mikrotik_routeros",
          "purpose": "hotspot", "until_date": "2026-12-15", "pagu_idr": 40515000, "cir": 2.5, "mir": 10.0}


def _calls() -> Iterator[tuple[str, ast.Call]]:
    for where, tree in parsed_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit" \
                    and node.func.attr in ("record", "record_many"):
                yield f"{where}:{node.lineno}", node


def _strings(node: ast.AST | None) -> set[str]:
    """The string constants an argument can take (``"a" if x else "b"`` gives both)."""
    if node is None:
        return set()
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


@cache
def _written() -> tuple[set[str], set[str], set[str]]:
    """The message keys, actions and entity kinds the code writes."""
    keys: set[str] = set()
    actions: set[str] = set()
    kinds: set[str] = set()
    for where, call in _calls():
        if call.func.attr == "record_many":  # type: ignore[attr-defined]
            for item in ast.walk(call):
                if isinstance(item, ast.Tuple) and len(item.elts) == 5:
                    actions |= _strings(item.elts[0])
                    kinds |= _strings(item.elts[1])
                    keys |= _strings(item.elts[3])
            continue
        args = {k.arg: k.value for k in call.keywords}
        assert "summary" not in args, f"{where}: audit entries are written as a message key and values"
        assert "message" in args, f"{where}: no message key"
        found = _strings(args["message"])
        assert found, f"{where}: the message key must be a literal (or a choice of literals)"
        keys |= found
        actions |= _strings(args.get("action"))
        kinds |= _strings(args.get("entity_type"))
    return keys, actions, kinds


def test_every_key_the_code_writes_is_in_the_catalogue_and_every_catalogue_key_is_written() -> None:
    keys, _, _ = _written()
    assert keys - MESSAGES.keys() == set(), "written but unknown"
    assert MESSAGES.keys() - keys == set(), "in the catalogue but never written"


def test_every_action_and_kind_the_code_writes_has_a_label() -> None:
    _, actions, kinds = _written()
    assert actions and kinds
    assert actions - AUDIT_ACTIONS.keys() == set()
    assert kinds - ENTITY_TYPES.keys() == set()


def _samples(message: str) -> Iterator[dict[str, object]]:
    """Values for each placeholder: each word a word-parameter can hold, and a name or number otherwise."""
    names = PLACEHOLDER.findall(MESSAGES[message])
    base: dict[str, object] = {n: SAMPLE.get(n, 7) for n in names if n not in WORDS}
    words = [n for n in names if n in WORDS]
    if not words:
        yield base
        return
    for name in words:
        for value in WORDS[name]:
            yield {**base, **{w: next(iter(WORDS[w])) for w in words}, name: value}


def _english_words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]+", text)}


@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_each_audit_sentence_renders_in_indonesian_with_no_english_left(message: str) -> None:
    indonesian = formats.translator("id")
    gettext = formats.translations("id").gettext
    assert indonesian(MESSAGES[message]) != MESSAGES[message], f"{message} has no Indonesian wording"
    for params in _samples(message):
        text = audit_messages.render(message, params, gettext, "id")
        english = audit_messages.render(message, params, lambda t: t, "en")
        assert "%(" not in text
        values = " ".join(str(v) for v in params.values())
        left = (_english_words(text) & _english_words(english)) - _english_words(values) - SHARED
        assert not left, f"{message}: English left in {text!r}: {left}"


def test_amounts_and_dates_in_a_sentence_use_the_readers_format() -> None:
    gettext = formats.translations("id").gettext
    assert "Rp 40.515.000" in audit_messages.render("budget_year.set", {"year": 2027, "pagu_idr": 40515000},
                                                    gettext, "id")
    assert "15 Desember 2026" in audit_messages.render(
        "uplink.changed_terms_kept", {"name": "telkom", "until_date": "2026-12-15"}, gettext, "id")
    assert "Rp 40,515,000" in audit_messages.english("budget_year.set", {"year": 2027, "pagu_idr": 40515000})


def test_an_unknown_key_or_missing_value_is_refused_when_written(session: Session) -> None:
    with pytest.raises(audit_messages.UnknownAuditMessage):
        audit.record(session, SYSTEM, action="create", entity_type="site", message="site.made")
    with pytest.raises(KeyError):
        audit.record(session, SYSTEM, action="create", entity_type="site", message="site.created")
    with pytest.raises(audit_messages.UnknownAuditMessage):
        audit.record(session, SYSTEM, action="create", entity_type="user", message="user.created",
                     params={"name": "x", "role": "emperor"})


def test_an_entry_keeps_its_key_values_and_english_sentence(session: Session) -> None:
    entry = audit.record(session, SYSTEM, action="create", entity_type="site", entity_id=1, message="site.created",
                         params={"name": "Taman Kota"})
    session.flush()
    assert (entry.message, entry.params, entry.summary) == ("site.created", {"name": "Taman Kota"},
                                                             "created site Taman Kota")

"""Maintains the UI's gettext catalogs: extract msgids from templates and Python, merge, compile.

    python -m netmgr.web.catalogs update    # extract → messages.pot → merge into id/ and en/ .po
    python -m netmgr.web.catalogs compile   # .po → .mo (commit both)

Translate new entries in ``locale/id/LC_MESSAGES/messages.po``; English msgstrs stay empty (the msgid is English).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from netmgr.web.i18n import LANGUAGES, LOCALE_DIR

WEB_DIR = Path(__file__).parent
EXPORTS_DIR = WEB_DIR.parent / "reports_export"
"""The report files speak the reader's language too; their msgids live in the same catalog."""
SERVICES_DIR = WEB_DIR.parent / "services"
"""Services mark the wording of rule messages that pages translate with ``N_("...")`` (and nothing else)."""
SCHEMAS_DIR = WEB_DIR.parent / "schemas"
"""Schemas mark their validators' messages the same way."""
METHOD_MAP = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "yes", "lstrip_blocks": "yes"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every msgid used by the UI's templates and Python modules."""
    catalog = Catalog(project="netmgr", domain="messages")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(WEB_DIR), METHOD_MAP, OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(EXPORTS_DIR), [("**.py", "python")], keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(f"../reports_export/{filename}", lineno)], auto_comments=comments,
                    context=context)
    for folder in (SERVICES_DIR, SCHEMAS_DIR):
        for filename, lineno, message, comments, context in extract_from_dir(
            str(folder), [("**.py", "python")], keywords={"N_": None}, strip_comment_tags=True
        ):
            catalog.add(message, None, [(f"../{folder.name}/{filename}", lineno)], auto_comments=comments,
                        context=context)
    return catalog


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def read_catalog(lang: str) -> Catalog:
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain="messages")


def compiled_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def update() -> None:
    template = extract()
    with (LOCALE_DIR / "messages.pot").open("wb") as fh:
        write_po(fh, template, omit_header=False, sort_output=True)
    for lang in LANGUAGES:
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read_catalog(lang) if path.exists() else Catalog(locale=lang, domain="messages", project="netmgr")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, sort_output=True, ignore_obsolete=True)


def compile_all() -> None:
    for lang in LANGUAGES:
        po_path(lang).with_suffix(".mo").write_bytes(compiled_bytes(read_catalog(lang)))


def main(argv: list[str]) -> int:
    commands = {"update": update, "compile": compile_all}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m netmgr.web.catalogs update|compile", file=sys.stderr)
        return 2
    commands[argv[0]]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""``netmgr secrets``: make encryption keys and re-encrypt stored secrets under a new one."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from netmgr.commands.context import CLI_ACTOR, console, db_session, err_console, fail, settings
from netmgr.errors import NetmgrError
from netmgr.security.secrets import SecretBox, generate_key
from netmgr.services.secrets_rotation import rotate_encryption_key

secrets_app = typer.Typer(help="Encryption keys for the secrets stored in the database.", no_args_is_help=True)


@secrets_app.command("generate-key")
def generate_key_command() -> None:
    """Print a new random Fernet key for NETMGR_ENCRYPTION_KEYS."""
    typer.echo(generate_key())


@secrets_app.command("encrypt")
def encrypt_command() -> None:
    """Encrypt a credential for a setting that stores it encrypted (NETMGR_SMS__SECRET_ENCRYPTED).

    The value is read from the terminal without echo (or from standard input) and never printed; the token
    printed is decrypted with NETMGR_ENCRYPTION_KEYS only when it is used.
    """
    value = typer.prompt("value to encrypt", hide_input=True, err=True)
    if not value:
        raise fail("nothing to encrypt")
    typer.echo(SecretBox(settings().fernet_keys()).encrypt(value))


@secrets_app.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt every stored secret under the newest key, in one transaction.

    Procedure (no secret is ever unreadable):

    1. Make a key: `netmgr secrets generate-key`.

    2. Put it FIRST in NETMGR_ENCRYPTION_KEYS and keep the old key after it, e.g.
    NETMGR_ENCRYPTION_KEYS=NEW,OLD, then restart netmgr (the first key encrypts, every key decrypts).

    3. Run `netmgr secrets rotate-key` with that setting: every `*_encrypted` column of every table
    is re-encrypted under NEW.

    4. Remove OLD from NETMGR_ENCRYPTION_KEYS and restart netmgr again.

    If any stored secret cannot be decrypted with the configured keys, nothing is changed.
    """
    keys = settings().fernet_keys()
    if len(keys) < 2:
        err_console.print("[yellow]note:[/] only one key is configured; this re-encrypts under the same key. "
                          "To rotate, put the new key first and keep the old one: NETMGR_ENCRYPTION_KEYS=NEW,OLD")
    try:
        with db_session() as session, Progress(
            TextColumn("[bold]re-encrypting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err_console, transient=True,
        ) as bar:
            task = bar.add_task("rotate", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = rotate_encryption_key(session, CLI_ACTOR, progress=progress)
    except NetmgrError as exc:
        raise fail(exc) from exc
    table = Table(title="Secrets re-encrypted under the newest key")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(result.per_table.items()):
        table.add_row(name, str(rows))
    table.add_row("[bold]total[/]", f"[bold]{result.rows}[/]")
    console.print(table)
    console.print(f"re-encrypted {result.values} secret(s) in {result.rows} row(s); "
                  "you may now remove the old key from NETMGR_ENCRYPTION_KEYS")


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")

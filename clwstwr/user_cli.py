"""``clwstwr user …``: create and manage the web app's accounts from the command line.

The command line is how the first administrator comes to exist: there are no default credentials, so
``clwstwr user add NAME --role admin`` on the server is the only way in. Passwords are read from a
hidden prompt (asked twice) or, for scripts, one line on standard input (``--password-stdin``); never
from an option, which would leave them in the shell history and the process list.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import Protocol, TypeVar

import click

from store import users
from store.database import transaction

from .context import AppContext

T = TypeVar("T")


class _CliState(Protocol):
    """What the top-level group hands its commands (``cli._State``)."""

    debug: bool

    def context(self) -> AppContext: ...


def _run(state: _CliState, action: Callable[[], T]) -> T:
    """The CLI's error boundary (imported late: ``cli`` registers this group at its end)."""
    from .cli import _run as run

    return run(state, action)  # type: ignore[arg-type]


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")


def _by(by: str | None) -> str:
    return by or getpass.getuser()


_BY = click.option("--by", default=None, help="Who is doing this (recorded in the audit log). Default: the login name.")


@click.group("user")
def user() -> None:
    """Accounts for the web app: reviewer, chair, programme (SPPC) or admin."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(users.ROLES)), help="What the user may do.")
@click.option("--display-name", default=None, help="Name shown in the app. Default: the user name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@_BY
@click.pass_obj
def add_command(state: _CliState, username: str, role: str, display_name: str | None, password_stdin: bool,
                by: str | None) -> None:
    """Create an account (the password is asked for twice, hidden)."""

    def action() -> None:
        password = _read_password(password_stdin)
        ctx = state.context()
        try:
            with transaction(ctx.sessions) as session:
                record = users.create_user(session, username, password, role, actor=_by(by), display_name=display_name)
        finally:
            ctx.close()
        click.echo(f"user {record.username!r} added with role {record.role}")

    _run(state, action)


@user.command("list")
@click.pass_obj
def list_command(state: _CliState) -> None:
    """List accounts: user name, role, active or disabled, granted rounds, display name."""

    def action() -> None:
        ctx = state.context()
        try:
            with transaction(ctx.sessions) as session:
                rows = [(u, users.granted_rounds(session, u.id)) for u in users.list_users(session)]
        finally:
            ctx.close()
        if not rows:
            click.echo("no users yet: add one with `clwstwr user add NAME --role admin`")
            return
        click.echo(f"{'username':<30} {'role':<10} {'status':<9} {'rounds':<16} display name")
        for u, rounds in rows:
            status = "active" if u.active else "disabled"
            click.echo(f"{u.username:<30} {u.role:<10} {status:<9} {','.join(rounds) or '-':<16} {u.display_name}")

    _run(state, action)


@user.command("grant")
@click.argument("username")
@click.argument("round_name", metavar="ROUND")
@_BY
@click.pass_obj
def grant_command(state: _CliState, username: str, round_name: str, by: str | None) -> None:
    """Let USERNAME (a chair) see ROUND's raw answers."""

    def action() -> None:
        ctx = state.context()
        try:
            with transaction(ctx.sessions) as session:
                record = users.grant_round(session, username, round_name, actor=_by(by))
        finally:
            ctx.close()
        click.echo(f"user {record.username!r} may now see round {round_name!r}")

    _run(state, action)


@user.command("disable")
@click.argument("username")
@_BY
@click.pass_obj
def disable_command(state: _CliState, username: str, by: str | None) -> None:
    """Refuse USERNAME from now on; their open sessions end at once."""

    def action() -> None:
        ctx = state.context()
        try:
            with transaction(ctx.sessions) as session:
                record = users.disable(session, username, actor=_by(by))
        finally:
            ctx.close()
        click.echo(f"user {record.username!r} disabled")

    _run(state, action)


@user.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@_BY
@click.pass_obj
def set_password_command(state: _CliState, username: str, password_stdin: bool, by: str | None) -> None:
    """Give USERNAME a new password; their open sessions end and their failed log-ins are forgotten
    (so a user refused for too many failed log-ins can log in at once)."""

    def action() -> None:
        password = _read_password(password_stdin)
        ctx = state.context()
        try:
            with transaction(ctx.sessions) as session:
                record = users.set_password(session, username, password, actor=_by(by))
        finally:
            ctx.close()
        click.echo(f"password of {record.username!r} changed; its open sessions ended and failed log-ins cleared")

    _run(state, action)

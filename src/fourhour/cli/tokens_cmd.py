"""`fourhour tokens`: API tokens for `fourhour serve` (created, listed, revoked; stored hashed)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from fourhour.cli import app, console
from fourhour.cli.options import WarehouseOption
from fourhour.web.tokens import ROLES

tokens_app = typer.Typer(
    help="API tokens for `fourhour serve`: the analyst role sees exact patient-level figures."
)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who or what the token is for, e.g. 'jane.doe'.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")] = "viewer",
    warehouse: WarehouseOption = None,
) -> None:
    """Create a token and print it once (only its SHA-256 is stored). Send it as
    `Authorization: Bearer TOKEN`."""
    from fourhour.warehouse import open_warehouse
    from fourhour.web.tokens import create_token

    with open_warehouse(warehouse) as wh:
        token, secret = create_token(wh, name, role)
    console.print(
        f"token {token.id} for {token.name} ({token.role}); shown once, keep it safe:",
        highlight=False,
    )
    typer.echo(secret)


@tokens_app.command("list")
def list_(
    active: Annotated[bool, typer.Option("--active", help="Only tokens not revoked.")] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Tokens with their role, when they were created and revoked (never the tokens)."""
    from fourhour.warehouse import open_warehouse
    from fourhour.web.tokens import list_tokens

    with open_warehouse(warehouse) as wh:
        tokens = list_tokens(wh, include_revoked=not active)
    table = Table(title=f"{len(tokens):,} tokens")
    for column in ("id", "name", "role", "created", "revoked"):
        table.add_column(column)
    for t in tokens:
        d = t.as_dict()
        table.add_row(str(t.id), t.name, t.role, d["created_at"], d["revoked_at"] or "")
    console.print(table)


@tokens_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (fourhour tokens list).")],
    warehouse: WarehouseOption = None,
) -> None:
    """Revoke a token: the server refuses it from its next request."""
    from fourhour.warehouse import open_warehouse
    from fourhour.web.tokens import revoke_token

    with open_warehouse(warehouse) as wh:
        token = revoke_token(wh, token_id)
    console.print(f"token {token.id} ({token.name}) revoked at {token.revoked_at}")


@tokens_app.command("audit")
def audit(
    last: Annotated[int, typer.Option(help="How many entries, newest first.", min=1)] = 50,
    warehouse: WarehouseOption = None,
) -> None:
    """The audit log: every request to `fourhour serve` that presented a token."""
    from fourhour.warehouse import open_warehouse
    from fourhour.web.tokens import audit_entries

    with open_warehouse(warehouse) as wh:
        rows = audit_entries(wh, last)
    table = Table(title="audit log (newest first)")
    for column in ("at", "token", "method", "path", "query", "status"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["at"]),
            "refused" if r["token_id"] is None else str(r["token_id"]),
            r["method"],
            r["path"],
            r["query"] or "",
            str(r["status"]),
        )
    console.print(table)

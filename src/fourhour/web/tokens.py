"""API tokens: created by `fourhour tokens create`, stored as their SHA-256 only, revocable.

A token is shown once, when it is created; the warehouse keeps its SHA-256, so a copy of the
warehouse never gives away a working token. Roles: `analyst` (exact figures from patient-level
data) and `viewer` (the public figures, with its requests audited like any token's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fourhour.errors import InvalidInputError, QueryError

if TYPE_CHECKING:
    from fourhour.warehouse import Warehouse

ROLES = ("analyst", "viewer")
ANALYST = "analyst"
PREFIX = "fh_"  # tokens are recognisable in logs and secret scanners
TOKEN_BYTES = 32
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,79}$")
_TOKEN = re.compile(r"^fh_[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "revoked_at": None
            if self.revoked_at is None
            else self.revoked_at.isoformat(timespec="seconds"),
        }


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(text: str) -> bool:
    return bool(_TOKEN.match(text))


def create_token(wh: Warehouse, name: str, role: str) -> tuple[Token, str]:
    """A new token for `name` with `role`: the stored record and the token itself (shown once)."""
    if role not in ROLES:
        raise InvalidInputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not _NAME.match(name):
        raise InvalidInputError(
            f"{name!r} is not a usable token name",
            hint="1-80 letters, digits, spaces and . _ @ -, starting with a letter or digit",
        )
    from fourhour.warehouse.connection import one_row  # DuckDB: not for `tokens --help`

    secret = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with wh.transaction() as con:
        token_id = one_row(con.execute("SELECT nextval('api_token_id_seq')"))[0]
        con.execute(
            "INSERT INTO api_tokens (id, name, role, sha256) VALUES (?, ?, ?, ?)",
            [token_id, name, role, digest(secret)],
        )
    return get_token(wh, token_id), secret


def _row(r: tuple) -> Token:
    return Token(int(r[0]), r[1], r[2], r[3], r[4])


_COLUMNS = "id, name, role, created_at, revoked_at"


def get_token(wh: Warehouse, token_id: int) -> Token:
    found = wh.con.execute(f"SELECT {_COLUMNS} FROM api_tokens WHERE id = ?", [token_id]).fetchone()
    if found is None:
        raise QueryError(f"no token {token_id}", hint="fourhour tokens list")
    return _row(found)


def list_tokens(wh: Warehouse, *, include_revoked: bool = True) -> list[Token]:
    rows = wh.con.execute(
        f"SELECT {_COLUMNS} FROM api_tokens WHERE ? OR revoked_at IS NULL ORDER BY id",
        [include_revoked],
    ).fetchall()
    return [_row(r) for r in rows]


def revoke_token(wh: Warehouse, token_id: int) -> Token:
    """Revoke a token (from now on it is refused). Revoking it again changes nothing."""
    token = get_token(wh, token_id)
    if token.active:
        with wh.transaction() as con:
            con.execute(
                "UPDATE api_tokens SET revoked_at = current_timestamp WHERE id = ?", [token_id]
            )
    return get_token(wh, token_id)


def verify(wh: Warehouse, presented: str) -> Token | None:
    """The active token whose SHA-256 matches `presented`, else None (unknown or revoked)."""
    if not looks_like_token(presented):
        return None
    found = wh.con.execute(
        f"SELECT {_COLUMNS} FROM api_tokens WHERE sha256 = ? AND revoked_at IS NULL",
        [digest(presented)],
    ).fetchone()
    return None if found is None else _row(found)


def audit_entries(wh: Warehouse, last: int = 50) -> list[dict[str, Any]]:
    rows = wh.con.execute(
        'SELECT "at", token_id, method, path, query, status FROM audit_log '
        'ORDER BY "at" DESC LIMIT ?',
        [last],
    ).fetchall()
    keys = ("at", "token_id", "method", "path", "query", "status")
    return [dict(zip(keys, r, strict=True)) for r in rows]

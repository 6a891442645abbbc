"""Bearer tokens: `Authorization: Bearer fh_...` is checked against the stored SHA-256 of
active tokens. No token: the public figures. A token that is malformed, unknown or revoked is
refused with 401 (never silently ignored). Every request with a token is audited."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from fourhour.errors import FourhourError
from fourhour.web.db import WarehouseAccess
from fourhour.web.errors import Forbidden, error_body
from fourhour.web.security.audit import AuditLog
from fourhour.web.tokens import ANALYST, Token, verify

TOKEN_TTL_S = 1.0  # a verified token is trusted this long before it is looked up again


class TokenCache:
    def __init__(self, access: WarehouseAccess) -> None:
        self.access = access
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, Token | None]] = {}

    def lookup(self, presented: str) -> Token | None:
        key = hashlib.sha256(presented.encode("utf-8", "replace")).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(key)
            if hit and now - hit[0] < TOKEN_TTL_S:
                return hit[1]
        with self.access.warehouse() as wh:
            token = verify(wh, presented)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = (now, token)
        return token


def _plain(scope: dict[str, Any], status: int, message: str, hint: str | None) -> tuple:
    body = json.dumps(error_body(status, message, hint)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="fourhour"'))
    return headers, body


class TokenAuth:
    """Pure ASGI: resolves the token into scope['fourhour_token'] and audits the request."""

    def __init__(self, app: Any, tokens: TokenCache, audit: AuditLog) -> None:
        self.app = app
        self.tokens = tokens
        self.audit = audit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = None
        for k, v in scope.get("headers", ()):
            if k == b"authorization":
                header = v.decode("latin-1")
                break
        scope["fourhour_token"] = None
        if header is None:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "")
        path = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        scheme, _, presented = header.partition(" ")
        token: Token | None = None
        problem = None
        if scheme.lower() != "bearer" or not presented.strip():
            problem = "the Authorization header should be 'Bearer TOKEN'"
        else:
            try:
                token = self.tokens.lookup(presented.strip())
            except FourhourError as exc:
                await _respond(send, 503, exc.message, exc.hint)
                return
            if token is None:
                problem = "the token is not valid: unknown, malformed or revoked"
        if problem:
            self.audit.record(None, method, path, query, 401)
            await _respond(send, 401, problem, "ask for a token: fourhour tokens create")
            return
        scope["fourhour_token"] = token
        status = {"code": 500}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            assert token is not None
            self.audit.record(token.id, method, path, query, status["code"])


async def _respond(send: Any, status: int, message: str, hint: str | None) -> None:
    headers, body = _plain({}, status, message, hint)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def token_of(request: Any) -> Token | None:
    return request.scope.get("fourhour_token")


def require_analyst(request: Any) -> Token:
    token = token_of(request)
    if token is None or token.role != ANALYST:
        raise Forbidden(
            "exact figures from patient-level data need a token with the analyst role",
            hint="send Authorization: Bearer TOKEN (fourhour tokens create --role analyst)",
        )
    return token


def is_analyst(request: Any) -> bool:
    token = token_of(request)
    return token is not None and token.role == ANALYST

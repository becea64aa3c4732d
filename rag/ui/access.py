"""Who may use the web UI, and who may change the corpus through it.

In: the address the server binds to and a per-run token. Out: `Access` (the token, `allows(request)` for the
handlers that add or remove articles, the link to print at start) and `AccessGuard`, an ASGI middleware that
- refuses a request whose `Host` is not the bound address (a DNS-rebinding page names its own host),
- refuses a request whose `Origin` is another origin than the one it is sent to (a page on any other
  `http://localhost:*` may otherwise call the app's endpoints from the user's browser),
- on a server bound beyond loopback, refuses every request without the token, and
- keeps the token in a cookie once a page was opened with `?token=...`, so the browser need not repeat it.

Asking needs no token on loopback (only this machine's users reach it); adding and removing articles always does,
as in Jupyter: `rag serve` prints the link that carries it. The token is `settings.ui_token` when set (for scripts),
else a new random one per run.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

TOKEN_PARAM = "token"
TOKEN_HEADER = "x-rag-token"
TOKEN_COOKIE = "rag_token"
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server to this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Access:
    """The token of one server run, and where that server listens."""

    token: str
    host: str
    port: int

    @classmethod
    def new(cls, host: str, port: int, token: str = "") -> Access:
        return cls(token=token or secrets.token_urlsafe(18), host=host, port=port)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def link(self) -> str:
        """The address to open, with the token: what `rag serve` prints."""
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{_bracketed(shown)}:{self.port}/?{TOKEN_PARAM}={self.token}"

    def allowed_hosts(self) -> frozenset[str] | None:
        """`Host` header values this server answers to; None when bound beyond loopback (any name may lead here,
        and the token is required for every request instead)."""
        if not self.loopback:
            return None
        names = {self.host, "127.0.0.1", "localhost", "[::1]"}
        return frozenset(f"{_bracketed(name)}:{self.port}".lower() for name in names)

    def holds_token(self, query: Mapping[str, Any], headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
        """Whether a request carries this run's token (query parameter, header or cookie)."""
        given = [query.get(TOKEN_PARAM), headers.get(TOKEN_HEADER), cookies.get(TOKEN_COOKIE)]
        return any(isinstance(g, str) and secrets.compare_digest(g, self.token) for g in given)

    def allows(self, request: Any) -> bool:
        """Whether a Gradio event's request (`gr.Request`: the page's query, the headers and cookies it was sent
        with) may change the corpus."""
        if request is None:
            return False
        return self.holds_token(dict(request.query_params), dict(request.headers), dict(request.cookies))


class AccessGuard:
    """ASGI middleware enforcing `Access` on every HTTP and websocket request (see the module docstring)."""

    def __init__(self, app: Any, access: Access) -> None:
        self.app = app
        self.access = access
        self.hosts = access.allowed_hosts()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "").lower()
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
        cookies = {name: morsel.value for name, morsel in SimpleCookie(headers.get("cookie", "")).items()}
        origin = headers.get("origin")
        refusal = None
        if self.hosts is not None and host not in self.hosts:
            refusal = f"this server does not answer to the host name {host or '(none)'}"
        elif origin is not None and origin.lower() != f"{_scheme(scope)}://{host}":
            refusal = f"requests from {origin} are not accepted"
        elif not self.access.loopback and not self.access.holds_token(query, headers, cookies):
            refusal = "open the link with ?token=... that the server printed when it started"
        if refusal:
            log.warning("Refused %s %s: %s", scope.get("method", "WS"), scope.get("path"), refusal)
            await _refuse(scope, receive, send, refusal)
            return
        if query.get(TOKEN_PARAM) and self.access.holds_token(query, {}, {}):
            send = _setting_cookie(send, self.access.token)
        await self.app(scope, receive, send)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _scheme(scope: dict[str, Any]) -> str:
    scheme = scope.get("scheme", "http")
    return {"ws": "http", "wss": "https"}.get(scheme, scheme)


def _setting_cookie(send: Any, token: str) -> Any:
    cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
        await send(message)

    return wrapped


async def _refuse(scope: dict[str, Any], receive: Any, send: Any, reason: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = f"Forbidden: {reason}.\n".encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

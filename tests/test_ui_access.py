"""rag.ui.access: which requests reach the app, and which may change the corpus."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from rag.ui.access import Access, AccessGuard, is_loopback


def _client(access: Access) -> TestClient:
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))],
                    middleware=[Middleware(AccessGuard, access=access)])
    return TestClient(app, base_url=f"http://{access.host}:{access.port}")


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.org"))


def test_a_loopback_server_answers_its_own_names_and_origin_only():
    client = _client(Access.new("127.0.0.1", 7860, "t"))
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"Host": "localhost:7860"}).status_code == 200
    assert client.get("/", headers={"Host": "rebound.example:7860"}).status_code == 403
    assert client.get("/", headers={"Host": "127.0.0.1:7861"}).status_code == 403
    assert client.get("/", headers={"Origin": "http://127.0.0.1:7860"}).status_code == 200
    for origin in ("http://localhost:3000", "null", "http://evil.example"):
        refused = client.post("/", headers={"Origin": origin})
        assert refused.status_code == 403 and "not accepted" in refused.text


def test_beyond_loopback_every_request_needs_the_token_and_a_link_sets_the_cookie():
    access = Access.new("0.0.0.0", 7860, "s3cret")
    assert access.link() == "http://127.0.0.1:7860/?token=s3cret"
    client = _client(access)
    assert client.get("/", headers={"Host": "server.lan:7860"}).status_code == 403
    opened = client.get("/?token=s3cret", headers={"Host": "server.lan:7860"})
    assert opened.status_code == 200 and "HttpOnly" in opened.headers["set-cookie"]
    assert client.get("/", headers={"Host": "server.lan:7860"}).status_code == 200  # the cookie now carries it
    client.cookies.clear()
    assert client.get("/?token=wrong", headers={"Host": "server.lan:7860"}).status_code == 403


@pytest.mark.parametrize(("query", "headers", "cookies", "allowed"), [
    ({"token": "t"}, {}, {}, True),
    ({}, {"x-rag-token": "t"}, {}, True),
    ({}, {}, {"rag_token": "t"}, True),
    ({}, {}, {}, False),
    ({"token": "u"}, {"x-rag-token": ""}, {"rag_token": "tt"}, False),
])
def test_the_token_may_come_by_query_header_or_cookie(query, headers, cookies, allowed):
    assert Access.new("127.0.0.1", 1, "t").holds_token(query, headers, cookies) is allowed


def test_each_run_has_its_own_token_unless_one_is_set():
    assert Access.new("127.0.0.1", 1).token != Access.new("127.0.0.1", 1).token
    assert len(Access.new("127.0.0.1", 1).token) >= 20
    assert Access.new("127.0.0.1", 1, "fixed").token == "fixed"

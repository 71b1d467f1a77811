"""The keycloak demo user, against a fake Keycloak admin API on a local HTTP server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.services import keycloak


class FakeKeycloak(BaseHTTPRequestHandler):
    users: dict = {}
    requests: list = []
    token = "token-123"

    def log_message(self, *args):
        pass

    def _answer(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.requests.append((self.path, dict(self.headers), raw))
        if self.path == "/auth/realms/master/protocol/openid-connect/token":
            form = parse_qs(raw)
            if form == {"grant_type": ["password"], "client_id": ["admin-cli"],
                        "username": ["admin"], "password": ["admin"]}:
                return self._answer(200, {"access_token": self.token})
            return self._answer(401, {"error": "invalid_grant"})
        if self.path == "/auth/admin/realms/weaviate/users":
            if self.headers.get("Authorization") != f"Bearer {self.token}":
                return self._answer(401)
            user = json.loads(raw)
            if user["username"] in self.users:
                return self._answer(409, {"errorMessage": "User exists with same username"})
            self.users[user["username"]] = user
            return self._answer(201)
        return self._answer(404)


@pytest.fixture
def fake_keycloak():
    FakeKeycloak.users = {}
    FakeKeycloak.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKeycloak)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_creates_johndoe_in_realm_weaviate(fake_keycloak):
    assert keycloak.create_user(fake_keycloak) == "created"
    user = FakeKeycloak.users["johndoe"]
    assert user["enabled"] is True and user["email"] == "john@doe.com"
    assert user["credentials"] == [{"type": "password", "value": "johndoe", "temporary": False}]
    assert [r[0] for r in FakeKeycloak.requests] == [
        "/auth/realms/master/protocol/openid-connect/token",
        "/auth/admin/realms/weaviate/users"]


def test_second_run_finds_the_user_already_there(fake_keycloak):
    assert keycloak.create_user(fake_keycloak) == "created"
    assert keycloak.create_user(fake_keycloak) == "exists"


def test_failed_admin_login_is_reported(fake_keycloak, monkeypatch):
    with pytest.raises(DevError, match="admin login .* HTTP 401"):
        keycloak.admin_token(keycloak.requests.Session(), fake_keycloak, password="wrong")


def test_unexpected_answer_is_reported(fake_keycloak):
    with pytest.raises(DevError, match="HTTP 404"):
        keycloak.create_user(fake_keycloak, realm="nope")


def test_unreachable_keycloak_is_a_dev_error():
    with pytest.raises(DevError, match="failed"):
        keycloak.create_user("http://127.0.0.1:9", timeout=2)

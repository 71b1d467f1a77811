"""A relay for the package indexes of an image build, so that no credential enters the image.

A package index URL often carries a credential (`https://user:token@host/simple`). Docker
keeps every build argument that a RUN uses in the image's history, and makes it part of the
layer cache's key, so the build never gets such a URL. While a build runs, `relay(settings)`
serves a small HTTP proxy on the host, at the address where the build's containers reach the
host (the Docker bridge's gateway), and gives the build:

- each index as `http://index-<digest>.weaviate-dev.invalid/<its path>`: a stand-in host name
  made from the index's address without its credentials, so the cache key stays the same when
  a token changes and changes when the index does;
- `http_proxy`: the relay's address, with a password made for this build alone. Docker keeps
  its predefined proxy arguments out of the image's history and out of the cache key.

The relay sends each request for a stand-in host to the real index, with the credentials
and the settings' CA bundle, and rewrites the index's own absolute links in its pages to the
stand-in host. A request for any other host is passed on as a plain proxy would. An index on
the user's own 127.0.0.1 works the same way. `masked(url)` returns an index URL fit to print,
with its password (or a lone token) shown as `***`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

from weaviate_dev.core.errors import UsageError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.docker import engine

STAND_IN_DOMAIN = "weaviate-dev.invalid"
PROXY_USER = "weaviate-dev"
# Both spellings: pip reads the lower-case one, uv either.
PROXY_ARGS = ("http_proxy", "HTTP_PROXY")
# Pages whose links name the index's own address (simple API HTML and JSON).
PAGE_TYPES = ("text/html", "application/vnd.pypi.simple", "application/json")
FORWARDED = ("Accept", "Accept-Encoding", "User-Agent", "Range", "If-None-Match",
             "If-Modified-Since", "Cache-Control")
RETURNED = ("Content-Type", "Content-Length", "Content-Encoding", "Content-Range", "ETag",
            "Last-Modified", "Cache-Control", "Accept-Ranges")
CHUNK = 1 << 16


def masked(url: str) -> str:
    """Return `url` fit to print: a password is shown as `***`, and so is a user name alone
    (a token)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, has_password, _ = userinfo.partition(":")
    shown = f"{user}:***" if has_password else "***"
    return urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


@dataclass(frozen=True)
class Index:
    """One configured package index: where it is, its credentials, and its stand-in host."""

    origin: str  # scheme://host[:port], without credentials
    auth: tuple[str, str] | None
    stand_in: str  # the host name the build uses for it

    @classmethod
    def parse(cls, url: str, setting: str) -> tuple[Index, str]:
        """Return the index and the URL the build gets for `url`; raise UsageError for a URL
        that is not http(s)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{setting}={masked(url)}: not an http or https URL")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
        auth = None
        if parts.username is not None:
            auth = (unquote(parts.username), unquote(parts.password or ""))
        stand_in = f"index-{hashlib.sha256(origin.encode()).hexdigest()[:12]}.{STAND_IN_DOMAIN}"
        return cls(origin, auth, stand_in), urlunsplit(
            ("http", stand_in, parts.path, parts.query, parts.fragment))

    def rewrite(self, data: bytes) -> bytes:
        """Return a page of the index with its absolute links pointing at the stand-in
        host."""
        return data.replace(self.origin.encode(), f"http://{self.stand_in}".encode())


@dataclass
class Relay:
    """A running relay: the build arguments that point a build at it, and what it served
    ((host, path, status) for each request)."""

    buildargs: dict[str, str]
    served: list[tuple[str, str, int]] = field(default_factory=list)


def index_urls(settings: Settings) -> dict[str, list[str]]:
    """Return the configured index URLs by build argument (PIP_EXTRA_INDEX_URL may list
    several, separated by spaces)."""
    return {name: value.split() for name, value in (
        ("PIP_INDEX_URL", settings.pip_index_url),
        ("PIP_EXTRA_INDEX_URL", settings.pip_extra_index_url)) if value and value.split()}


def describe(settings: Settings) -> str:
    """Return the configured indexes for a printed line, masked; "" when none is set."""
    urls = index_urls(settings)
    return ", ".join(f"{name}={' '.join(masked(u) for u in values)}"
                     for name, values in urls.items())


@contextlib.contextmanager
def relay(settings: Settings) -> Iterator[Relay]:
    """While entered, run a relay for the configured package indexes, and provide the build
    arguments that point a build at it (none when no index is set)."""
    urls = index_urls(settings)
    if not urls:
        yield Relay({})
        return
    routes: dict[str, Index] = {}
    buildargs: dict[str, str] = {}
    for name, values in urls.items():
        stand_ins = []
        for url in values:
            index, stand_in = Index.parse(url, f"WEAVIATE_DEV_{name}")
            routes[index.stand_in] = index
            stand_ins.append(stand_in)
        buildargs[name] = " ".join(stand_ins)
    listen, reach = engine.host_for_builds()
    password = secrets.token_urlsafe(24)
    running = Relay(buildargs)
    session = requests.Session()
    verify: str | bool = str(settings.ca_bundle) if settings.ca_bundle else True
    expected = "Basic " + base64.b64encode(f"{PROXY_USER}:{password}".encode()).decode()
    handler = type("Handler", (_Handler,), {"routes": routes, "session": session,
                                            "verify": verify, "expected": expected,
                                            "served": running.served})
    server = http.server.ThreadingHTTPServer((listen, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="index-relay", daemon=True)
    thread.start()
    port = server.server_address[1]
    for name in PROXY_ARGS:
        buildargs[name] = f"http://{PROXY_USER}:{password}@{reach}:{port}"
    try:
        yield running
    finally:
        server.shutdown()
        server.server_close()
        session.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    """One proxied request: GET or HEAD in absolute form, with the relay's password."""

    protocol_version = "HTTP/1.1"
    routes: dict[str, Index]
    session: requests.Session
    verify: str | bool
    expected: str
    served: list

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self._relay(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._relay(send_body=False)

    def do_CONNECT(self) -> None:  # noqa: N802
        self._answer(405, "the relay passes plain http requests only")

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet: the build prints
        pass

    def _relay(self, send_body: bool) -> None:
        """Pass one request on to its index (or any other host) and send the answer back."""
        if not secrets.compare_digest(self.headers.get("Proxy-Authorization", ""),
                                      self.expected):
            self._answer(407, "the relay needs its password",
                         {"Proxy-Authenticate": 'Basic realm="weaviate-dev"'})
            return
        target = urlsplit(self.path)
        if target.scheme != "http" or not target.hostname:
            self._answer(400, "the relay is a proxy: send it absolute http URLs")
            return
        index = self.routes.get(target.hostname)
        path = urlunsplit(("", "", target.path or "/", target.query, ""))
        url = index.origin + path if index else self.path
        headers = {name: self.headers[name] for name in FORWARDED if self.headers.get(name)}
        try:
            response = self.session.request(
                self.command, url, headers=headers, auth=index.auth if index else None,
                stream=True, allow_redirects=False, timeout=(15, 300), verify=self.verify)
        except requests.RequestException as exc:
            self._answer(502, f"the relay could not reach {index.origin if index else url}: "
                              f"{type(exc).__name__}")
            return
        with response:
            self.served.append((target.hostname, path, response.status_code))
            returned = {name: response.headers[name] for name in RETURNED
                        if name in response.headers}
            if "Location" in response.headers:
                location = response.headers["Location"]
                returned["Location"] = index.rewrite(location.encode()).decode() \
                    if index else location
            if index and response.headers.get("Content-Type", "").startswith(PAGE_TYPES):
                body = index.rewrite(response.content)  # decoded: links can be rewritten
                returned.pop("Content-Encoding", None)
                returned["Content-Length"] = str(len(body))
                self._send(response.status_code, returned, [body] if send_body else [])
            else:
                if "Content-Length" not in returned:
                    returned["Connection"] = "close"
                    self.close_connection = True
                chunks = response.raw.stream(CHUNK, decode_content=False) if send_body else []
                self._send(response.status_code, returned, chunks)

    def _send(self, status: int, headers: dict[str, str], chunks) -> None:
        """Send a response with these headers and body chunks."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)

    def _answer(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        """Send a short plain-text answer from the relay itself."""
        body = f"weaviate-dev index relay: {text}\n".encode()
        self._send(status, {"Content-Type": "text/plain", "Content-Length": str(len(body)),
                            **(headers or {})}, [body] if self.command != "HEAD" else [])

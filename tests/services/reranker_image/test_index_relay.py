"""The package-index relay of image builds: a build reaches an index with credentials through
a stand-in URL without them; the relay adds them, rewrites the index's own links, and lets
through only requests that carry the password made for the build. A real index server (on
127.0.0.1, with basic auth) stands behind it; requests talks to the relay as pip does."""

from __future__ import annotations

import base64
import dataclasses
import gzip

import pytest
import requests

from reranker.testing.fake_index import FakeIndex

from weaviate_dev.core.errors import UsageError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.docker import engine
from weaviate_dev.services.reranker_image import index_relay

WHEEL = bytes(range(256)) * 4096  # 1 MB that must arrive unchanged


@pytest.fixture
def index_server():
    """A private index at http://127.0.0.1:PORT that answers only user:s3cret; its pages link
    to its own absolute address."""
    def answer(path, headers):
        if path == "/simple":
            return 301, b"", {"Location": f"{index.url}/simple/"}
        if path == "/simple/pkg/":
            page = (f'<a href="{index.url}/packages/pkg-1.0-py3-none-any.whl#sha256=ab">'
                    'pkg-1.0</a><a href="../../packages/pkg-0.9.tar.gz">pkg-0.9</a>').encode()
            if "gzip" in headers.get("Accept-Encoding", ""):
                return 200, gzip.compress(page), {"Content-Type": "text/html",
                                                  "Content-Encoding": "gzip"}
            return 200, page, {"Content-Type": "text/html"}
        if path == "/packages/pkg-1.0-py3-none-any.whl":
            return 200, WHEEL, {"Content-Type": "application/octet-stream"}
        return 404, b"not found", {}

    with FakeIndex(answer, user="user", password="s3cret") as index:
        yield index


@pytest.fixture
def on_loopback(monkeypatch):
    monkeypatch.setattr(engine, "host_for_builds", lambda: ("127.0.0.1", "127.0.0.1"))


def with_password(url: str) -> str:
    return url.replace("http://", "http://user:s3cret@")


def with_indexes(index=None, extra=None) -> Settings:
    return dataclasses.replace(Settings.from_env({}), pip_index_url=index,
                               pip_extra_index_url=extra, ca_bundle=None)


def get(relay, url, proxy=None, **kwargs):
    proxy = proxy or relay.buildargs["http_proxy"]
    return requests.get(url, proxies={"http": proxy}, timeout=10, allow_redirects=False,
                        **kwargs)


def test_the_build_reaches_the_index_through_a_stand_in_without_the_credentials(
        index_server, on_loopback):
    settings = with_indexes(with_password(index_server.url) + "/simple")
    with index_relay.relay(settings) as relay:
        stand_in = relay.buildargs["PIP_INDEX_URL"]
        assert "s3cret" not in stand_in and stand_in.endswith("/simple")
        host = stand_in.split("/")[2]
        assert host.endswith(".weaviate-dev.invalid")
        page = get(relay, f"{stand_in}/pkg/", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200
        assert page.text == (f'<a href="http://{host}/packages/pkg-1.0-py3-none-any.whl'
                             '#sha256=ab">pkg-1.0</a><a href="../../packages/pkg-0.9.tar.gz">'
                             'pkg-0.9</a>')  # its own address rewritten, unzipped
        wheel = get(relay, f"http://{host}/packages/pkg-1.0-py3-none-any.whl")
        assert wheel.status_code == 200 and wheel.content == WHEEL
        moved = get(relay, f"http://{host}/simple")
        assert (moved.status_code, moved.headers["Location"]) == (301, f"http://{host}/simple/")
        assert relay.served[0] == (host, "/simple/pkg/", 200)
    credentials = "Basic " + base64.b64encode(b"user:s3cret").decode()
    assert [auth for _, auth in index_server.seen] == [credentials] * 3
    with pytest.raises(requests.ConnectionError):  # the relay is gone with the build
        get(relay, f"{stand_in}/pkg/")


def test_only_the_build_with_the_relays_password_gets_through(index_server, on_loopback):
    settings = with_indexes(with_password(index_server.url) + "/simple")
    with index_relay.relay(settings) as relay:
        stand_in = relay.buildargs["PIP_INDEX_URL"]
        proxy = relay.buildargs["http_proxy"]
        address = proxy.rsplit("@", 1)[1]
        for wrong in (f"http://{address}", f"http://weaviate-dev:guess@{address}"):
            refused = get(relay, f"{stand_in}/pkg/", proxy=wrong)
            assert refused.status_code == 407
        assert requests.get(f"http://{address}/simple/pkg/", timeout=10,
                            headers={"Proxy-Authorization": "x"}).status_code == 407
    assert index_server.seen == []


def test_an_index_that_cannot_be_reached_is_a_502_without_the_credentials(on_loopback):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with index_relay.relay(with_indexes(f"http://user:s3cret@127.0.0.1:{port}/simple")) as relay:
        failed = get(relay, relay.buildargs["PIP_INDEX_URL"] + "/pkg/")
    assert failed.status_code == 502
    assert "could not reach http://127.0.0.1" in failed.text and "s3cret" not in failed.text


def test_no_index_no_relay(monkeypatch):
    monkeypatch.setattr(engine, "host_for_builds",
                        lambda: pytest.fail("no relay is needed without an index"))
    with index_relay.relay(with_indexes()) as relay:
        assert relay.buildargs == {}


def test_several_extra_indexes_each_get_a_stand_in(on_loopback):
    settings = with_indexes(extra="https://a:1@one.example/simple  https://b:2@two.example/x")
    with index_relay.relay(settings) as relay:
        one, two = relay.buildargs["PIP_EXTRA_INDEX_URL"].split(" ")
    assert one != two and one.endswith("/simple") and two.endswith("/x")
    assert "PIP_INDEX_URL" not in relay.buildargs


def test_a_stand_in_follows_the_index_not_its_token():
    """The stand-in host depends on the index's address alone: a new token keeps Docker's
    cache key (and the dependency layers), another index changes it."""
    first = index_relay.Index.parse("https://user:old@pypi.example.com/simple", "X")[1]
    rotated = index_relay.Index.parse("https://user:new@pypi.example.com/simple", "X")[1]
    other = index_relay.Index.parse("https://user:old@mirror.example.com/simple", "X")[1]
    assert first == rotated != other
    with pytest.raises(UsageError, match=r"X=ftp://u:\*\*\*@host/: not an http or https URL"):
        index_relay.Index.parse("ftp://u:p@host/", "X")


@pytest.mark.parametrize("url, shown", [
    ("https://user:s3cret@host/simple", "https://user:***@host/simple"),
    ("https://t0ken@host:8443/simple", "https://***@host:8443/simple"),
    ("https://user:@host/simple", "https://user:***@host/simple"),
    ("https://host/simple", "https://host/simple"),
    ("http://a:b@127.0.0.1:3141/x?y=1", "http://a:***@127.0.0.1:3141/x?y=1"),
])
def test_masked(url, shown):
    assert index_relay.masked(url) == shown


def test_describe_masks_every_index():
    settings = with_indexes("https://u:p1@a.example/simple", "https://q@b.example/s")
    assert index_relay.describe(settings) == ("PIP_INDEX_URL=https://u:***@a.example/simple, "
                                              "PIP_EXTRA_INDEX_URL=https://***@b.example/s")

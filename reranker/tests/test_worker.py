"""The worker's lane for probes: which requests go there, judged on real connections."""

from __future__ import annotations

import time

import pytest

from reranker.worker import NOT_YET, POOL, PROBE, lane_of
from test_request_watch import connection


@pytest.mark.parametrize("sent, lane", [
    (b"GET /.well-known/live HTTP/1.1\r\nHost: x\r\n\r\n", PROBE),
    (b"GET /.well-known/ready HTTP/1.1\r\nHost: x\r\nUser-Agent: kube-probe/1.30\r\n\r\n",
     PROBE),
    (b"HEAD /.well-known/live HTTP/1.0\r\n\r\n", PROBE),
    (b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text\r\n\r\n", PROBE),
    (b"GET /.well-known/live HTTP/1.1\r\nHost: x\r\n", POOL),  # the head not whole yet
    (b"POST /rerank HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", POOL),
    (b"GET /meta HTTP/1.1\r\n\r\n", POOL),
    (b"GET /metricsfoo HTTP/1.1\r\n\r\n", POOL),
    (b"POST /.well-known/live HTTP/1.1\r\nContent-Length: 9999\r\n\r\n", POOL),
])
def test_a_request_goes_to_the_probes_lane_only_when_it_is_a_whole_probe(sent, lane):
    with connection() as (client, server):
        client.sendall(sent)
        for _ in range(200):  # until the bytes are there to peek at (loopback: at once)
            if lane_of(server, waited=False) != NOT_YET:
                break
            time.sleep(0.005)
        assert lane_of(server, waited=True) == lane
        assert server.recv(len(sent) + 10) == sent  # nothing was taken from the socket


def test_a_new_connection_with_nothing_yet_waits_for_its_request():
    with connection() as (_client, server):
        server.setblocking(False)
        assert lane_of(server, waited=False) == NOT_YET
        assert lane_of(server, waited=True) == POOL  # readable again, yet nothing: the pool

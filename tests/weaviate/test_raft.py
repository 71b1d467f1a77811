"""raft.py: when is a cluster of Weaviate 1.39.0 whole, judged from /v1/cluster/statistics.

The bodies below have the shape 1.39.0 really returns (recorded from a 4-node development
cluster: three voters and fourth-node as a non-voter; trimmed to the fields that matter).
"""

from __future__ import annotations

import copy

import pytest

from weaviate_dev.weaviate import raft


def config(voters, others=()):
    return ([{"id": n, "suffrage": 0, "address": "[::1]:8300"} for n in voters]
            + [{"id": n, "suffrage": 1, "address": "[::1]:8306"} for n in others])


def node(name, *, leader="weaviate-0", voter=True, ready=True, status="HEALTHY",
         voters=("weaviate-0", "weaviate-1", "weaviate-2"), others=()):
    entry = {"name": name, "status": status, "ready": ready, "leaderId": leader,
             "raft": {"state": "Leader" if name == leader else "Follower",
                      "latestConfiguration": config(voters, others)}}
    if voter:
        entry["isVoter"] = True  # 1.39.0 leaves the key out for a non-voter
    return entry


WHOLE = {"synchronized": True,
         "statistics": [node("weaviate-0"), node("weaviate-1"), node("weaviate-2")]}
VOTERS = ["weaviate-0", "weaviate-1", "weaviate-2"]


def test_three_voters_with_one_leader_are_whole():
    assert raft.missing(WHOLE, voters=VOTERS) is None


def test_a_non_voter_must_be_a_member_but_not_a_voter():
    others = ("weaviate-3",)
    body = {"synchronized": True, "statistics": [
        *(node(n, others=others) for n in VOTERS),
        node("weaviate-3", voter=False, others=others)]}
    assert raft.missing(body, voters=VOTERS, others=["weaviate-3"]) is None
    assert "weaviate-3 is not a member" in raft.missing(WHOLE, voters=VOTERS,
                                                          others=["weaviate-3"])


def test_a_node_that_is_gone_is_named():
    # after SIGKILL 1.39.0 drops the node from statistics and still says synchronized
    body = {"synchronized": True, "statistics": WHOLE["statistics"][:2]}
    assert raft.missing(body, voters=VOTERS) == "no statistics from weaviate-2"


@pytest.mark.parametrize("change, reason", [
    (lambda b: b.update(synchronized=False), "not synchronized"),
    (lambda b: b["statistics"][1].update(ready=None), "weaviate-1 is not ready"),
    (lambda b: b["statistics"][1].update(status="UNAVAILABLE"), "weaviate-1 is UNAVAILABLE"),
    (lambda b: b["statistics"][0].update(leaderId=""), "weaviate-0 sees no leader"),
    (lambda b: b["statistics"][2].update(leaderId="weaviate-1"),
     "no single leader: weaviate-0, weaviate-1"),
    (lambda b: b["statistics"][2].pop("isVoter"), "weaviate-2 is not a voter"),
    (lambda b: b["statistics"][0]["raft"].update(latestConfiguration=config(VOTERS[:2])),
     "weaviate-0's raft configuration has voters weaviate-0, weaviate-1"),
])
def test_every_way_of_not_being_whole_says_why(change, reason):
    body = copy.deepcopy(WHOLE)
    change(body)
    assert raft.missing(body, voters=VOTERS) == reason


def test_the_probe_asks_the_statistics_endpoint(monkeypatch):
    seen = []

    class Response:
        status_code = 200

        def json(self):
            return WHOLE

    def get(url, timeout):
        seen.append(url)
        return Response()

    monkeypatch.setattr(raft.requests, "get", get)
    assert raft.probe("http://127.0.0.1:8081", voters=VOTERS)() is None
    assert seen == ["http://127.0.0.1:8081/v1/cluster/statistics"]

    def refused(url, timeout):
        raise raft.requests.ConnectionError("refused")

    monkeypatch.setattr(raft.requests, "get", refused)
    assert raft.probe("http://127.0.0.1:8081", voters=VOTERS)() == \
        "GET http://127.0.0.1:8081/v1/cluster/statistics: ConnectionError"

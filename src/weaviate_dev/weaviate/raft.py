"""Check whether every node of a Weaviate cluster has joined, using the raft statistics.

`GET /v1/cluster/statistics` on any node returns one entry per reachable node: `name`,
`ready`, `status`, `isVoter` (1.39.0 leaves it out for a non-voter), `leaderId`, and `raft`
with the `latestConfiguration` the node knows (`suffrage` 0 = voter, 1 = non-voter), plus a
top-level `synchronized`. A node that died is simply missing (and `synchronized` may still be
true), so we look for every expected node by name. `/v1/nodes` reports HEALTHY as soon as
gossip sees a node, before raft has a leader, so it is not enough on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import requests

from weaviate_dev.core.waiting import Probe

VOTER, NON_VOTER = 0, 1


def missing(body: Mapping, *, voters: Iterable[str], others: Iterable[str] = ()) -> str | None:
    """Return None when every voter and non-voter is ready, healthy, a member with the right
    suffrage, and agrees on one leader; otherwise return the first problem found."""
    voters, others = sorted(voters), sorted(others)
    stats = {entry.get("name"): entry for entry in body.get("statistics") or []}
    for name in voters + others:
        entry = stats.get(name)
        if entry is None:
            return f"no statistics from {name}"
        if entry.get("status") != "HEALTHY":
            return f"{name} is {entry.get('status')}"
        if not entry.get("ready"):
            return f"{name} is not ready"
        if bool(entry.get("isVoter")) != (name in voters):
            return f"{name} is {'not ' if name in voters else ''}a voter"
        if not entry.get("leaderId"):
            return f"{name} sees no leader"
        members = {item.get("id"): item.get("suffrage")
                   for item in (entry.get("raft") or {}).get("latestConfiguration") or []}
        known = sorted(n for n, suffrage in members.items() if suffrage == VOTER)
        if known != voters:
            return f"{name}'s raft configuration has voters {', '.join(known) or 'none'}"
        for other in others:
            if members.get(other) != NON_VOTER:
                return f"{other} is not a member (as seen by {name})"
    leaders = sorted({stats[name].get("leaderId") for name in voters + others})
    if len(leaders) > 1:
        return f"no single leader: {', '.join(leaders)}"
    if not body.get("synchronized"):
        return "not synchronized"
    return None


def probe(http_url: str, *, voters: Iterable[str], others: Iterable[str] = (),
          timeout: float = 5.0) -> Probe:
    """Return a probe for waiting.wait_until: it asks `http_url` for the cluster statistics
    and passes when `missing` finds no problem."""
    url = f"{http_url}/v1/cluster/statistics"
    voters, others = list(voters), list(others)

    def check() -> str | None:
        try:
            response = requests.get(url, timeout=timeout)
        except requests.RequestException as exc:
            return f"GET {url}: {type(exc).__name__}"
        if response.status_code != 200:
            return f"GET {url}: HTTP {response.status_code}"
        try:
            body = response.json()
        except ValueError:
            return f"GET {url}: not JSON"
        return missing(body, voters=voters, others=others)

    return check

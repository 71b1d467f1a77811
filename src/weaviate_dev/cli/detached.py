"""Print where the reranker and Weaviate answer once `weaviate-dev dev --detach` has started
them in the background.

The report lists every Weaviate node that this process started, as the run records
(running.py) name it: its HTTP URL, gRPC address and log file. It adds the reranker's URL and
the model it serves, and the command that stops everything. With `--json` the report is one
JSON object on stdout, and every other line of the start (ours, compose's, Docker's) goes to
stderr, so that a script can read stdout as it is:

    {"weaviate_url": "http://127.0.0.1:8080", "grpc_port": 50051,
     "reranker_url": "http://127.0.0.1:8009",
     "nodes": [{"node": 0, "http": "http://127.0.0.1:8080", "grpc": "127.0.0.1:50051",
                "grpc_port": 50051, "pid": 4242, "log": ".../weaviate.log"}],
     "reranker": {"url": "http://127.0.0.1:8009", "model": "org/name@<commit>",
                  "engine": "openvino", "precision": "fp32", "image": "..."},
     "down": "weaviate-dev down"}
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from weaviate_dev.core.settings import Settings
from weaviate_dev.weaviate import running

RERANKER = "reranker-transformers"


@contextlib.contextmanager
def stdout_on_stderr(enabled: bool = True) -> Iterator[None]:
    """While entered (when `enabled`), send everything written to stdout to stderr: Python's
    prints, and the output of programs started meanwhile, which inherit file descriptor 1."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def started_here(data_root: Path) -> list[running.Record]:
    """Return the running Weaviate nodes that this process started, ordered by node index."""
    me = os.getpid()
    found = [record for run_file in running.recorded(data_root)
             for record in run_file.records() if record.owner == me and record.alive()]
    return sorted(found, key=lambda record: record.index or 0)


def summary(settings: Settings, data_root: Path, down: str) -> dict:
    """Return the report as a dict (what --json prints): where each node and the reranker
    answer, and the command that stops them."""
    from weaviate_dev.services import reranker_image
    from weaviate_dev.services.catalog import load_catalog

    nodes = [{"node": record.index or 0, "http": f"http://127.0.0.1:{record.http}",
              "grpc": f"127.0.0.1:{record.grpc}", "grpc_port": record.grpc, "pid": record.pid,
              "log": record.log} for record in started_here(data_root)]
    url = load_catalog().service(RERANKER).url(settings.bind_address)
    info = reranker_image.serving_info(url) or {}
    return {
        "weaviate_url": nodes[0]["http"] if nodes else None,
        "grpc_port": nodes[0]["grpc_port"] if nodes else None,
        "reranker_url": url,
        "nodes": nodes,
        "reranker": {"url": url, "model": info.get("model"), "engine": info.get("engine"),
                     "precision": info.get("precision"), "image": settings.reranker_image},
        "down": down,
    }


def lines(report: dict) -> list[str]:
    """Return the report as lines for a terminal."""
    several = len(report["nodes"]) > 1
    out = []
    for node in report["nodes"]:
        name = f"Weaviate node {node['node']}" if several else "Weaviate"
        out.append(f"{name}  {node['http']}  gRPC {node['grpc']}  log {node['log']}")
    reranker = report["reranker"]
    serves = (f"{reranker['model']} (engine {reranker['engine']}, {reranker['precision']})"
              if reranker["model"] else f"the image {reranker['image']}")
    out.append(f"reranker  {reranker['url']}  serves {serves}")
    out.append(f"both run in the background; stop them with: {report['down']}")
    return out


def report(settings: Settings, args, *, as_json: bool) -> None:
    """Print the report on stdout, as JSON when `as_json`."""
    from weaviate_dev.cli.commands.run import data_root, down_line

    found = summary(settings, data_root(args, os.environ), down_line(args))
    if as_json:
        print(json.dumps(found, indent=2), flush=True)
    else:
        print("\n".join(lines(found)), flush=True)

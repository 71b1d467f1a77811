"""The log files of Weaviate nodes run in the background: found through the run records, their
last lines, several at once, followed until the nodes exit."""

from __future__ import annotations

import io
import subprocess

import pytest

from weaviate_dev.core.identity import Identity
from weaviate_dev.core.errors import DevError
from weaviate_dev.weaviate import groups, logs, running


def me() -> groups.Member:
    return groups.Member.current()


def record(index, log, member=None) -> running.Record:
    """A record of node `index` (a pid of its own: a file keeps one record per pid)."""
    member = member or groups.Member(Identity(4_000_000 + index, 1.0))
    return running.Record.of(f"node {index}", member, owner=me(), http=8080 + index,
                             grpc=50051 + index, index=index, log=log)


@pytest.mark.parametrize("text", ["a\nbb\n\nccc\nd\n", "a\nbb\n\nccc\nd", "", "\n\n\n",
                                  "one line", "x" * 50 + "\n" + "y" * 30 + "\n"])
@pytest.mark.parametrize("count", [0, 1, 2, 3, 10])
def test_the_last_lines_are_found_across_blocks(tmp_path, text, count):
    path = tmp_path / "log"
    path.write_text(text)
    start = logs.tail_start(path, len(text), count, block=7)
    lines = text.splitlines(keepends=True)
    assert text[start:] == "".join(lines[-count:] if count else [])


def test_names_are_nodes_or_every_node():
    assert logs.is_weaviate("weaviate") and logs.is_weaviate("weaviate-12")
    assert not logs.is_weaviate("reranker-transformers") and not logs.is_weaviate("weaviate-x")


def test_find_takes_the_records_logs_and_says_where_they_are_when_none(tmp_path):
    data = tmp_path / "data"
    cluster = running.RunFile(data / "reranker-cluster")
    for index in (0, 1):
        cluster.add(record(index, tmp_path / f"n{index}.log"))
    running.RunFile(data / "local-development").add(  # in the foreground: no log file
        running.Record.of("local-development", me(), owner=me(), http=8090, grpc=50090))
    assert [(found.name, found.path) for found in logs.find(data, ["weaviate"])] == [
        ("weaviate-0", tmp_path / "n0.log"), ("weaviate-1", tmp_path / "n1.log")]
    assert [found.name for found in logs.find(data, ["weaviate-1"])] == ["weaviate-1"]
    with pytest.raises(DevError, match="weaviate-7.*--detach or --all-nodes"):
        logs.find(data, ["weaviate-7"])


def test_several_logs_are_shown_line_by_line_with_their_node(tmp_path):
    (tmp_path / "n0.log").write_text("zero a\nzero b\n")
    (tmp_path / "n1.log").write_text("one a\none b\none c")
    found = [logs.NodeLog(f"weaviate-{i}", tmp_path / f"n{i}.log",
                          record(i, tmp_path / f"n{i}.log")) for i in (0, 1)]
    out = io.StringIO()
    logs.show(found, tail=2, out=out)
    assert out.getvalue().splitlines() == ["weaviate-0 | zero a", "weaviate-0 | zero b",
                                           "weaviate-1 | one b", "weaviate-1 | one c"]
    out = io.StringIO()
    logs.show(found[:1], out=out)  # one log: its lines as they are
    assert out.getvalue() == "zero a\nzero b\n"


def test_follow_prints_what_is_appended_until_the_node_exits(tmp_path):
    path = tmp_path / "n0.log"
    path.write_text("before\n")
    writer = subprocess.Popen(
        ["sh", "-c", f"sleep 0.3; echo during >> {path}; sleep 0.3; printf last >> {path}"])
    try:
        found = [logs.NodeLog("weaviate-0", path, record(0, path, groups.Member.of(writer)))]
        out = io.StringIO()
        logs.show(found, follow=True, out=out, poll=0.05)
        assert writer.poll() is not None  # it returned because the node exited
        assert out.getvalue() == "before\nduring\nlast\n"
    finally:
        writer.kill()
        writer.wait()

"""run --watch: which changes rebuild the server, how they are named, and how Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from watchfiles import Change

from weaviate_dev.core import process
from weaviate_dev.weaviate.watch import GoSources, describe


def test_only_the_servers_go_sources_rebuild(tmp_path):
    data = tmp_path / "data"
    wanted = GoSources(ignore_paths=[data])
    assert wanted(Change.modified, str(tmp_path / "modules" / "x" / "client.go"))
    assert wanted(Change.added, str(tmp_path / "new.go"))
    for path in ["modules/x/client_test.go", "vendor/github.com/a/b.go", "x/testdata/t.go",
                 ".git/hooks/a.go", "README.md", "modules/x/client.go.swp", "data/shard/x.go"]:
        assert not wanted(Change.modified, str(tmp_path / path)), path


def test_changes_are_named_relative_to_the_tree_a_few_at_a_time():
    root = Path("/src")
    changes = {(Change.modified, f"/src/pkg/f{i}.go") for i in range(5)}
    assert describe(changes, root) == "pkg/f0.go, pkg/f1.go, pkg/f2.go (+2 more)"
    assert describe({(Change.deleted, "/src/a.go")}, root) == "a.go"


ROOT = Path(__file__).resolve().parents[2]
# `run --watch` on a tree (argv[1]) whose "Weaviate" ignores SIGINT and, on SIGTERM, writes
# the file `sigterm` and exits 3. Weaviate gets 600 s after SIGINT before the watch itself
# stops it harder: only the user's second Ctrl-C can end it sooner.
WATCH_DRIVER = textwrap.dedent("""
    import signal, sys, types
    from pathlib import Path
    from weaviate_dev.weaviate import watch

    watch.STOP_GRACE = 600
    tree = Path(sys.argv[1])
    server = (
        "import os, pathlib, signal, sys, time\\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\\n"
        "def term(*_):\\n"
        f"    pathlib.Path({str(tree / 'sigterm')!r}).write_text('x')\\n"
        "    sys.exit(3)\\n"
        "signal.signal(signal.SIGTERM, term)\\n"
        f"pathlib.Path({str(tree / 'up')!r}).write_text(str(os.getpid()))\\n"
        "time.sleep(600)\\n")
    plan = types.SimpleNamespace(
        label="stubborn", home=tree / "state", data_dir=tree / "data", data_root=tree,
        port=9, grpc=9,
        node=None, ready_url="http://127.0.0.1:9/v1/.well-known/ready",
        make_dirs=lambda: None)
    source = types.SimpleNamespace(path=tree, describe=lambda: str(tree))
    command = types.SimpleNamespace(argv=[sys.executable, "-c", server], cwd=tree, env={},
                                    container=None)
    sys.exit(watch.SourceWatch(plan, source, lambda: command, 600, {})())
""")


def test_a_second_ctrl_c_during_watch_escalates_as_in_run(tmp_path):
    (tmp_path / "state").mkdir()
    err = tmp_path / "err"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", WATCH_DRIVER, str(tmp_path)], stdout=stderr, stderr=stderr,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for(lambda: (tmp_path / "up").exists(), proc, err)
        proc.send_signal(signal.SIGINT)
        wait_for(lambda: "interrupted (SIGINT)" in err.read_text(), proc, err)
        time.sleep(1)  # Weaviate ignores it; the watch is waiting for it to stop
        assert proc.poll() is None and not (tmp_path / "sigterm").exists()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)  # the watch would wait 600 s without the escalation
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if (tmp_path / "up").exists():  # the server has a session of its own
            process.signal_group(int((tmp_path / "up").read_text()), signal.SIGKILL)
    assert (tmp_path / "sigterm").exists(), err.read_text()
    assert code == 3, err.read_text()  # Weaviate's own exit code, passed on
    assert "SIGINT again: sending SIGTERM to Weaviate" in err.read_text()


def wait_for(condition, proc, err: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the watch exited ({proc.returncode}):\n{err.read_text()}"
        assert time.monotonic() < deadline, err.read_text()
        time.sleep(0.05)

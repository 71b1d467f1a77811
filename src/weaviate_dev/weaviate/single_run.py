"""Run one Weaviate in the foreground, as `weaviate-dev run PROFILE` does.

The caller checks the ports first (`preflight`: a taken port stops the run, a needed service
that does not answer gets a warning). `start` makes the state and data directories and runs
the command in the foreground: Ctrl-C is passed on to Weaviate, and Weaviate's exit code
becomes run's. One line says when /v1/.well-known/ready answers. The process is recorded in
its state directory (running.py) for `weaviate-dev down` and `status`. From making the
directories until the record is written, run holds the data root's lock (run_data.py), so that
`restart` cannot delete the data of a Weaviate that is starting.
"""

from __future__ import annotations

import threading
import time

from weaviate_dev.core import process, waiting
from weaviate_dev.core.errors import WaitTimeout
from weaviate_dev.core.progress import say
from weaviate_dev.weaviate import cluster, groups, run_data
from weaviate_dev.weaviate.profile_types import Resolved
from weaviate_dev.weaviate.running import Record, RunFile


def preflight(plan: Resolved) -> None:
    """Raise DevError when a port of the profile is taken, and print a warning for each
    service the profile needs that does not answer."""
    cluster.preflight([plan], plan.label)


def start(plan: Resolved, source, command, timeout: float, environ) -> int:
    """Run `command` in the foreground until it ends, and return its exit code. The caller
    checks the ports first (`preflight`)."""
    start_lock = run_data.held_while_starting(plan.data_root)  # restart deletes nothing meanwhile
    try:
        plan.make_dirs()
        say(f"starting {plan.label} from {source.describe()}; its data is in {plan.data_dir}")
        say(f"http://127.0.0.1:{plan.port} (Ctrl-C stops Weaviate)")
        env = {**environ, **command.env}
        watchers: list[threading.Thread] = []
        run_file = RunFile(plan.home)
        owner = groups.Member.current()

        def started(proc) -> None:
            record(run_file, plan, proc, owner, command)
            start_lock.close()  # recorded: from here on restart sees it running
            watchers.append(watch_ready(proc, plan, timeout))

        try:
            code = process.run_foreground(command.argv, cwd=command.cwd, env=env,
                                          on_start=started, on_signal=interrupted)
        finally:
            run_file.forget_dead()
    finally:
        start_lock.close()
    for watcher in watchers:  # let its last line out before ours
        watcher.join(timeout=2)
    return code


def record(run_file: RunFile, plan: Resolved, proc, owner: groups.Member, command) -> None:
    """Record the started Weaviate in its state directory for `weaviate-dev down` and
    `status`: its process group, the process that waits for it, and where it answers."""
    run_file.add(Record.of(plan.label, groups.Member.of(proc), owner=owner, http=plan.port,
                        grpc=plan.grpc, index=plan.node, container=command.container))


def interrupted(received, sent) -> None:
    """Print a line when a Ctrl-C (or `weaviate-dev down`'s SIGTERM) is passed on to
    Weaviate."""
    if sent.name == "SIGINT":  # the first one passed on
        say(f"interrupted ({received.name}): stopping Weaviate (Ctrl-C again sends SIGTERM, "
            "then SIGKILL)")
    else:
        say(f"{received.name} again: sending {sent.name} to Weaviate")


def watch_ready(proc, plan: Resolved, timeout: float) -> threading.Thread:
    """Start a thread that prints one line when Weaviate is ready, or why it is not; return
    the thread."""
    http = waiting.http_probe(plan.ready_url)

    def probe():
        if proc.poll() is not None:
            raise _Exited(proc.returncode)
        return http()

    last_said = [0.0]

    def progress(line: str) -> None:  # a line every ~30 s, not every 5 s
        now = time.monotonic()
        if now - last_said[0] >= 30:
            last_said[0] = now
            say(line.strip())

    def watch():
        try:
            took = waiting.wait_until(probe, what=f"Weaviate ({plan.label}) at {plan.ready_url}",
                                      timeout=timeout, interval=0.5, progress=progress)
        except _Exited:
            return
        except WaitTimeout as exc:
            say(f"warning: {exc}")
            return
        say(f"Weaviate is ready: http://127.0.0.1:{plan.port}, gRPC 127.0.0.1:{plan.grpc} "
            f"({plan.label}, {took:.0f}s)")

    thread = threading.Thread(target=watch, name="weaviate-ready", daemon=True)
    thread.start()
    return thread


class _Exited(Exception):
    """The server process ended while we waited for it to become ready."""


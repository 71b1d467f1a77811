"""Run a whole cluster in the foreground: start every node, wait until the raft cluster is
whole, watch the nodes, and stop them all on Ctrl-C or `weaviate-dev down`.

Each node runs in a session of its own with its output in its log file, so the terminal's
Ctrl-C reaches only us; we then stop the nodes ourselves (groups.stop: SIGINT, SIGTERM after
30 s, SIGKILL after 10 more; a second Ctrl-C skips ahead). The nodes are recorded in the
cluster's running.json (running.py), where `weaviate-dev down` finds them. A node started
again with `weaviate-dev run PROFILE --node I` adds itself there and is stopped with the rest.
If a node exits before the cluster is whole, the start fails: the other nodes are stopped and
the node's last log lines are printed. After that, a node that exits is reported with the
command that starts it again, and the other nodes keep running.

With `run --detach` or `dev --detach`, the run ends once the cluster is whole. The nodes keep
running after weaviate-dev exits (each in its own session, with its input from /dev/null and
its output in its log file), and `weaviate-dev down` stops them through the record. A start
that fails or is interrupted still stops every node first. One node of any profile can run
the same way (`cluster.single`); it is ready when its /v1/.well-known/ready answers.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone

from weaviate_dev.core import process, waiting
from weaviate_dev.core.errors import DevError, WaitTimeout
from weaviate_dev.core.progress import say
from weaviate_dev.weaviate import groups, raft, run_data
from weaviate_dev.weaviate.cluster import Cluster, Node
from weaviate_dev.weaviate.running import Record, RunFile, remove_container

LOG_TAIL = 30
WATCH_INTERVAL = 0.5
INTERRUPTED_EXIT = 130  # a detached start that Ctrl-C stopped


class Interrupted(Exception):
    """Raised when Ctrl-C or SIGTERM arrives; every node is then stopped."""


class NodeExited(DevError):
    """Raised when a node exits before the cluster is whole."""


def exit_text(code: int | None) -> str:
    """Return how a process ended: "exited with code 1" or "was killed by SIGKILL"."""
    if code is not None and code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def log_tail(node: Node, lines: int = LOG_TAIL) -> str:
    """Return the last `lines` lines of the node's log, each led by "  | "."""
    try:
        text = node.log.read_text(errors="replace").splitlines()[-lines:]
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(f"  | {line}" for line in text)


class ClusterRun:
    """One run of a cluster. Call the object once; it returns the exit code."""

    def __init__(self, cluster: Cluster, environ: dict, *, ready_timeout: float,
                 restart_hint: Callable[[Node], str], grace: float = 30.0,
                 detach: bool = False, down_line: str = "weaviate-dev down") -> None:
        self.cluster = cluster
        self.detach = detach  # return once ready, leaving the nodes running
        self.down_line = down_line  # the command that stops them then
        self.environ = environ
        self.ready_timeout = ready_timeout
        self.restart_hint = restart_hint
        self.grace = grace
        self.state = RunFile(cluster.home)
        self.owner = groups.Member.current()
        self.members: dict[int, groups.Member] = {}  # our own nodes, by index
        self.requests = 0  # Ctrl-C/SIGTERM received
        self.interruptible = False
        self.reported: set[int] = set()  # nodes whose exit was printed while watching
        self.stopped = False

    def __call__(self) -> int:
        """Start the cluster and wait until it is whole; then watch it, or, detached, return
        at once. Return the exit code."""
        with self._signals():
            try:
                self._start_all()
                took = self._wait_whole()
                self._ready(took)
                if self.detach:
                    self.stopped = True  # nothing to stop: they run on, for `down` to stop
                    return 0
                return self._watch()
            except Interrupted as exc:
                code = self._stop(f"interrupted ({exc})")
                return INTERRUPTED_EXIT if self.detach else code
            except NodeExited as exc:
                say(str(exc))
                self._stop("a node exited during start")
                return 1
            except WaitTimeout as exc:
                say(f"error: {exc}")
                self._stop("the cluster did not become whole")
                return 1
            finally:
                self.interruptible = False
                if not self.stopped:  # an unexpected error: still leave nothing running
                    self._stop("stopping")

    # --- signals: raise only where it is safe; count always -------------------------------

    @contextmanager
    def _signals(self):
        """While entered, count Ctrl-C and SIGTERM, and raise Interrupted where it is safe."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, _frame):
            self.requests += 1
            if self.interruptible:
                self.interruptible = False
                raise Interrupted(signal.Signals(signum).name)

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def _check_interrupt(self) -> None:
        """Allow interruptions from here on; a signal that came before is acted on now."""
        if self.requests:
            raise Interrupted("a signal during the start")
        self.interruptible = True

    # --- start ----------------------------------------------------------------------------

    def _start_all(self) -> None:
        """Make every node's directories and start every node."""
        # the data root's lock until every node is recorded: restart deletes nothing meanwhile
        with run_data.held_while_starting(self.cluster.home.parent):
            for node in self.cluster.nodes:
                node.plan.make_dirs()
            logs = (self.cluster.nodes[0].log if self.cluster.single
                    else f"{self.cluster.home}/weaviate-I/")
            say(f"starting {self.cluster.describe()}; "
                f"{'log' if self.cluster.single else 'logs'} in {logs}")
            for node in self.cluster.nodes:  # not interruptible: every started node is recorded
                self._start(node)
        self._check_interrupt()

    def _start(self, node: Node) -> None:
        """Start one node, with its output appended to its log, and record it."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        with node.log.open("a") as log:
            log.write(f"=== weaviate-dev {stamp}: {node.command.shell_line()}\n")
            log.flush()
            popen = process.spawn(node.command.argv, cwd=node.command.cwd,
                                  env={**self.environ, **node.command.env},
                                  start_new_session=True, stdout=log, stderr=log,
                                  stdin=subprocess.DEVNULL)
        member = groups.Member.of(popen)
        self.members[node.index] = member
        self.state.add(Record.of(node.plan.label, member, owner=self.owner, http=node.plan.port,
                                 grpc=node.grpc, index=node.index, log=node.log,
                                 container=node.command.container))

    # --- wait until the raft cluster is whole ---------------------------------------------

    def _wait_whole(self) -> float:
        """Wait until every node is ready and raft has every voter; return the seconds it
        took. Raise NodeExited when a node exits meanwhile, WaitTimeout when time runs out."""
        first = self.cluster.nodes[0]
        whole = (raft.probe(first.http_url, voters=self.cluster.voter_names,
                            others=self.cluster.other_names)
                 if not self.cluster.single else lambda: None)
        ready = {n.index: waiting.http_probe(n.plan.ready_url) for n in self.cluster.nodes}

        def probe() -> str | None:
            for node in self.cluster.nodes:
                popen = self.members[node.index].popen
                if popen.poll() is not None:
                    raise NodeExited(
                        f"node {node.index} ({node.name}) {exit_text(popen.returncode)} during "
                        f"start; stopping the others. Its last log lines ({node.log}):\n"
                        + log_tail(node))
            for node in self.cluster.nodes:
                reason = ready[node.index]()
                if reason:
                    return f"node {node.index}: {reason}"
            return whole()

        def logs() -> str:
            return "\n".join(f"node {n.index} ({n.log}):\n{log_tail(n, 10)}"
                             for n in self.cluster.nodes)

        return waiting.wait_until(probe, what=self.cluster.describe(),
                                  timeout=self.ready_timeout, interval=0.5, logs=logs,
                                  progress=lambda line: say(line.strip()))

    def _ready(self, took: float) -> None:
        """Print that the cluster is ready, where each node answers, and how to stop it."""
        if self.cluster.single:
            say(f"Weaviate is ready in {took:.0f}s: {self.cluster.describe()}")
        else:
            say(f"Weaviate cluster is ready in {took:.0f}s: {self.cluster.describe()}, "
                "every node ready, one raft leader")
        for node in self.cluster.nodes:
            say(f"  {node.address_line()}")
        if self.detach:
            say(f"{'it runs' if self.cluster.single else 'they run'} in the background: "
                f"`{self.down_line}` stops {'it' if self.cluster.single else 'every node'}")
        else:
            say("Ctrl-C here, or `weaviate-dev down` in another terminal, stops every node")

    # --- watch ----------------------------------------------------------------------------

    def _watch(self) -> int:
        """Report each node that exits and each node started again elsewhere, until every node
        has exited; then return 1."""
        announced: set[int] = set()
        while True:
            for node in self.cluster.nodes:
                member = self.members[node.index]
                if not member.alive() and node.index not in self.reported:
                    self.reported.add(node.index)
                    say(f"node {node.index} ({node.http_url}) {exit_text(member.popen.returncode)}"
                        f"; the other nodes keep running. Its log: {node.log}. Start it again "
                        f"with its data: {self.restart_hint(node)}")
            adopted = self._adopted()
            for record in adopted:
                if record.pid not in announced:
                    announced.add(record.pid)
                    say(f"node {record.index} runs again (pid {record.pid}); it is stopped "
                        "with the others")
            if not adopted and not any(m.alive() for m in self.members.values()):
                say("every node has exited")
                return 1
            time.sleep(WATCH_INTERVAL)

    def _adopted(self) -> list[Record]:
        """Return the live records of this cluster's nodes that another weaviate-dev started
        (a node started again with --node I)."""
        ours = {m.pid for m in self.members.values()}
        return [r for r in self.state.records() if r.pid not in ours and r.alive()]

    # --- stop -----------------------------------------------------------------------------

    def _stop(self, why: str) -> int:
        """Stop our nodes and the adopted ones. Return 0 when every node we started stopped
        cleanly, else 1."""
        self.interruptible = False  # from here a Ctrl-C only hurries the stop along
        self.stopped = True
        alive = [m for m in self.members.values() if m.alive()]
        adopted = [r.member() for r in self._adopted()]
        if alive or adopted:
            say(f"{why}: stopping {len(alive) + len(adopted)} node(s) (Ctrl-C again to hurry)")
            took = groups.stop(alive + adopted, grace=self.grace,
                               requests=lambda: self.requests)
            say(f"every node stopped in {took:.1f}s")
        for node in self.cluster.nodes:
            if node.command.container and self.members.get(node.index):
                remove_container(node.command.container)  # left by a docker CLI killed hard
        for member in self.members.values():
            self.state.remove(member.pid)
        self.state.forget_dead()
        failed = [i for i, m in self.members.items()
                  if i not in self.reported and m.popen.returncode not in (0, None)]
        return 1 if failed else 0

"""`weaviate-dev run [PROFILE]`: start one Weaviate dev server from a run_dev_server profile.

Flow: parse -> resolve the profile (profiles.py) -> pick where Weaviate comes from
(weaviate_source.py) -> print (--print-env / --dry-run) or preflight, then run in the
foreground, printing a line when /v1/.well-known/ready answers. Ctrl-C is forwarded to
Weaviate and its exit code is passed on.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from weaviate_dev import process, waiting, weaviate_source
from weaviate_dev.errors import DevError, WaitTimeout
from weaviate_dev.progress import say
from weaviate_dev.profiles import ProfileCatalog, Profile, Resolved

DEFAULT_PROFILE = "local-development"
# Seconds to wait for /v1/.well-known/ready: `go run` compiles first (minutes when cold).
READY_TIMEOUT = {"source": 900.0, "binary": 180.0, "image": 180.0}
HELPER_EXIT = 2


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run a Weaviate dev server from a run_dev_server.sh profile",
        description="Run Weaviate in the foreground with one of the 63 profiles of "
                    "tools/dev/run_dev_server.sh (see docs/run.md).")
    parser.add_argument("profile", nargs="?", default=DEFAULT_PROFILE,
                        help=f"profile name (default {DEFAULT_PROFILE}; --list shows all)")
    show = parser.add_mutually_exclusive_group()
    show.add_argument("--list", action="store_true", help="list profiles and exit")
    show.add_argument("--print-env", action="store_true",
                      help="print the profile's environment as sorted KEY=VALUE lines")
    show.add_argument("--dry-run", action="store_true",
                      help="print the environment and the exact command line; start nothing")
    parser.add_argument("--node", type=int, metavar="I",
                        help="cluster profiles: run node I (0-based) of the cluster")
    parser.add_argument("--nodes", type=int, metavar="N",
                        help="cluster profiles: number of raft voters (default: the "
                             "cluster's, 3 for most); nodes >= N join as non-voters")
    parser.add_argument("--contextionary", action="store_true",
                        help="local-reranker-transformers: also enable text2vec-contextionary "
                             "(the original profile)")
    source = parser.add_argument_group("where Weaviate comes from (default: the checkout "
                                       "around the current directory, else a binary)")
    source.add_argument("--weaviate-src", metavar="DIR", help="go run in this Weaviate checkout")
    source.add_argument("--weaviate-bin", metavar="PATH", help="run this weaviate-server binary")
    source.add_argument("--image", nargs="?", const="", metavar="TAG",
                        help="docker run this image (default WEAVIATE_DEV_WEAVIATE_IMAGE, or a "
                             "local one built from the Weaviate binary when it cannot be "
                             "pulled); give PROFILE before --image, or use --image=TAG")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="root of the per-profile state directories "
                             "(default $XDG_DATA_HOME/weaviate-dev, ~/.local/share/weaviate-dev)")
    parser.add_argument("--ready-timeout", type=float, metavar="SECONDS",
                        help="how long to wait for the ready line (default 900 for go run, "
                             "180 otherwise); Weaviate keeps running after it")
    parser.set_defaults(handler=handle)


def default_data_root(environ) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "weaviate-dev"


def list_profiles(catalog: ProfileCatalog) -> str:
    width = max(len(name) for name in catalog.names())
    lines = []
    for name in catalog.names():
        profile = catalog.get(name)
        text = profile.description
        if profile.kind == "helper":
            text = f"[helper] {text} -> use: {profile.replacement}"
        lines.append(f"{name.ljust(width)}  {text}")
    return "\n".join(lines)


def helper_message(profile: Profile) -> str:
    lines = [f"{profile.name} is not a Weaviate profile ({profile.description}).",
             f"Use instead: {profile.replacement}"]
    if profile.then:
        lines.append("then:")
        lines += [f"  {step}" for step in profile.then]
    return "\n".join(lines)


def handle(args, settings) -> int:
    catalog = ProfileCatalog.load()
    if args.list:
        print(list_profiles(catalog))
        return 0
    profile = catalog.get(args.profile)
    if profile.kind == "helper":
        print(helper_message(profile), file=sys.stderr)
        return HELPER_EXIT

    environ = dict(os.environ)  # the plan step: the one place run reads the environment
    try:
        source = weaviate_source.locate(settings, src=args.weaviate_src,
                                        binary=args.weaviate_bin, image=args.image)
    except DevError:
        if not args.print_env:
            raise
        source = None  # --print-env works without any Weaviate
    checkout = source.path if source and source.kind == "source" else None
    data_root = (Path(args.data_dir).expanduser().resolve() if args.data_dir
                 else default_data_root(environ))
    plan = catalog.resolve(
        args.profile, data_root=data_root, environ=environ, checkout=checkout,
        node=args.node, nodes=args.nodes,
        options=["contextionary"] if args.contextionary else [],
        relative_to=checkout or Path.cwd())
    for note in plan.notes:
        say(f"note: {note}")
    if args.print_env:
        print("\n".join(plan.env_lines()))
        return 0
    command = weaviate_source.command(source, plan)
    if args.dry_run:
        print("\n".join(plan.env_lines()))
        if command.cwd is not None:
            print(f"cd {process.format_argv([str(command.cwd)])}")
        print(command.shell_line())
        return 0
    if source.kind == "image" and not args.image:
        source = default_image(settings, source)
        command = weaviate_source.command(source, plan)
    return start(plan, source, command, args.ready_timeout, environ)


def default_image(settings, source):
    """The configured Weaviate image, pulled or, where it cannot be, built locally."""
    from dataclasses import replace

    from weaviate_dev import images

    tag = images.ensure_weaviate_image(settings)
    return replace(source, image=tag)


def preflight(plan: Resolved) -> None:
    """Fail early when our ports are taken; warn about services the profile needs."""
    from weaviate_dev.ports import port_is_free
    from weaviate_dev.waiting import tcp_probe

    for purpose, port in plan.ports.items():
        free, reason = port_is_free("127.0.0.1", port)
        if not free:
            raise DevError(f"port {port} ({purpose}) for {plan.label} is not free: {reason}; "
                           "is another Weaviate running?")
    for need in plan.needs:
        if tcp_probe("127.0.0.1", need.port, timeout=0.5)() is not None:  # one try, no wait
            say(f"warning: nothing answers on localhost:{need.port}: {need.describe()}")


def start(plan: Resolved, source, command, ready_timeout, environ) -> int:
    preflight(plan)
    plan.state_dir.mkdir(parents=True, exist_ok=True)
    plan.data_dir.mkdir(parents=True, exist_ok=True)
    if "BACKUP_FILESYSTEM_PATH" in plan.env:
        Path(plan.env["BACKUP_FILESYSTEM_PATH"]).mkdir(parents=True, exist_ok=True)
    say(f"{plan.label} from {source.describe()}; data in {plan.data_dir}")
    say(f"http://127.0.0.1:{plan.port} (Ctrl-C stops Weaviate)")
    timeout = ready_timeout or READY_TIMEOUT[source.kind]
    env = {**environ, **command.env}
    watchers: list[threading.Thread] = []
    code = process.run_foreground(
        command.argv, cwd=command.cwd, env=env,
        on_start=lambda proc: watchers.append(watch_ready(proc, plan, timeout)))
    for watcher in watchers:  # let its last line out before ours
        watcher.join(timeout=2)
    return code


def watch_ready(proc, plan: Resolved, timeout: float) -> threading.Thread:
    """In a background thread: print one line when Weaviate is ready (or why not)."""
    http = waiting.http_probe(plan.ready_url)

    def probe():
        if proc.poll() is not None:
            raise _Exited(proc.returncode)
        return http()

    last = [0.0]

    def progress(line: str) -> None:  # a line every ~30 s, not every 5 s
        now = time.monotonic()
        if now - last[0] >= 30:
            last[0] = now
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
        say(f"Weaviate is ready: http://127.0.0.1:{plan.port}, gRPC 127.0.0.1:"
            f"{plan.ports.get('grpc', 50051)} ({plan.label}, {took:.0f}s)")

    thread = threading.Thread(target=watch, name="weaviate-ready", daemon=True)
    thread.start()
    return thread


class _Exited(Exception):
    """The server process ended while we waited for it to become ready."""


"""`weaviate-dev run [PROFILE]`: start one Weaviate dev server with a profile of
run_dev_server.sh, or with `--all-nodes` every node of a cluster profile.

run resolves the profile (profiles.py) and finds where Weaviate comes from (source.py): a
source tree, which source_run.py compiles or runs under Delve, a binary, or an image. With
--print-env or --dry-run it prints what it would run and stops. Otherwise it checks the ports
and runs Weaviate in the foreground (single_run.py; watch.py with --watch). For a whole
cluster, cluster.py works out every node and cluster_run.py runs them. With --detach,
cluster_run.py starts the node (or every node) in the background, waits until it is ready and
exits; the nodes keep running until `weaviate-dev down`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.core.progress import say
from weaviate_dev.weaviate import build as weaviate_build
from weaviate_dev.weaviate import cluster, delve, single_run, source_run
from weaviate_dev.weaviate import source as weaviate_source
from weaviate_dev.weaviate.profile_types import Profile
from weaviate_dev.weaviate.profiles import ProfileCatalog

DEFAULT_PROFILE = "local-development"
# Seconds to wait for /v1/.well-known/ready once Weaviate has started (a source tree is
# compiled before that, and the compile is not counted).
READY_TIMEOUT = {"source": 180.0, "binary": 180.0, "image": 180.0}
HELPER_EXIT = 2


def register(subparsers) -> None:
    """Add the `run` verb and its options."""
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
    parser.add_argument("--all-nodes", action="store_true",
                        help="cluster profiles: start every node of the cluster (those it "
                             "lists, or N with --nodes N), wait until raft has every voter; "
                             "Ctrl-C or `weaviate-dev down` stops them all")
    parser.add_argument("--vectorizer", choices=["none"],
                        help="none: run without a default vectorizer and without "
                             "text2vec-contextionary (any profile; a note says what was left "
                             "out)")
    parser.add_argument("--contextionary", action="store_true",
                        help="with local-reranker-transformers: also enable "
                             "text2vec-contextionary, as the original profile does")
    source = parser.add_argument_group("where Weaviate comes from (default: the checkout "
                                       "around the current directory, else a binary)")
    source.add_argument("--weaviate-src", metavar="DIR",
                        help="compile this Weaviate checkout (go build, cached) and run it")
    source.add_argument("--weaviate-bin", metavar="PATH", help="run this weaviate-server binary")
    source.add_argument("--image", nargs="?", const="", metavar="TAG",
                        help="run Weaviate from this image with docker run (default "
                             "WEAVIATE_DEV_WEAVIATE_IMAGE, or, when that cannot be pulled, a "
                             "local image built around the Weaviate binary); give PROFILE "
                             "before --image, or write --image=TAG")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the directory that holds each profile's state directory "
                             "(default $XDG_DATA_HOME/weaviate-dev, ~/.local/share/weaviate-dev)")
    parser.add_argument("--detach", action="store_true",
                        help="start Weaviate in the background, with its output in weaviate.log "
                             "in its state directory; wait until it is ready (with --all-nodes: "
                             "until raft has every voter), then exit and leave it running "
                             "until `weaviate-dev down`. If the start fails, Weaviate is "
                             "stopped again")
    parser.add_argument("--ready-timeout", type=float, metavar="SECONDS",
                        help="seconds to wait until Weaviate is ready (default 180); after "
                             "that a single Weaviate in the foreground keeps running with a "
                             "warning, and anything else is stopped")
    loop = parser.add_argument_group("edit, rebuild and debug a source tree (docs/run.md)")
    loop.add_argument("--debug", action="store_true",
                      help="run a debug build under Delve, headless on 127.0.0.1 "
                           "(--debug-port); Weaviate starts without waiting for a debugger; "
                           "attach with `dlv connect` or an IDE")
    loop.add_argument("--debug-port", type=tcp_port, default=delve.DEFAULT_PORT, metavar="PORT",
                      help=f"Delve's port with --debug (default {delve.DEFAULT_PORT})")
    loop.add_argument("--debug-node", type=int, metavar="I",
                      help="with --all-nodes --debug: the node to run under Delve (default 0)")
    loop.add_argument("--watch", action="store_true",
                      help="rebuild and restart Weaviate when a .go file of the tree changes "
                           "(with the same data; after a compile error the running server "
                           "keeps running)")
    parser.set_defaults(handler=handle)


def tcp_port(text: str) -> int:
    """argparse type for a TCP port number (1-65535)."""
    import argparse

    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return port


def default_data_root(environ) -> Path:
    """Return $XDG_DATA_HOME/weaviate-dev, or ~/.local/share/weaviate-dev when it is unset."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "weaviate-dev"


def data_root(args, environ) -> Path:
    """Return the directory where `run` keeps each profile's state, and where `down` and
    `status` look for it: --data-dir when given, else the default."""
    if args.data_dir:
        return Path(args.data_dir).expanduser().resolve()
    return default_data_root(environ)


def list_profiles(catalog: ProfileCatalog) -> str:
    """Return what --list prints: one line per profile with its description."""
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
    """Return the message for a helper profile, which is not a Weaviate: what to run instead."""
    lines = [f"{profile.name} is not a Weaviate profile ({profile.description}).",
             f"Use instead: {profile.replacement}"]
    if profile.then:
        lines.append("then:")
        lines += [f"  {step}" for step in profile.then]
    return "\n".join(lines)


def handle(args, settings) -> int:
    """Run `run`; return Weaviate's exit code (HELPER_EXIT for a helper profile)."""
    catalog = ProfileCatalog.load()
    if args.list:
        print(list_profiles(catalog))
        return 0
    if args.detach and args.watch:
        raise UsageError("--watch restarts Weaviate from the foreground: leave out --detach")
    if args.all_nodes:
        if args.node is not None:
            raise UsageError("--all-nodes starts every node; leave out --node")
        catalog.members(args.profile, args.nodes)  # anything but a cluster profile: listed
    profile = catalog.get(args.profile)
    if profile.kind == "helper":
        print(helper_message(profile), file=sys.stderr)
        return HELPER_EXIT

    environ = dict(os.environ)  # read once here: the rest of run gets this copy
    try:
        source = weaviate_source.locate(settings, src=args.weaviate_src,
                                        binary=args.weaviate_bin, image=args.image)
    except DevError:
        if not args.print_env:
            raise
        source = None  # --print-env works without any Weaviate
    checkout = source.path if source and source.kind == "source" else None
    given = dict(data_root=data_root(args, environ), environ=environ, checkout=checkout,
                 options=["contextionary"] if args.contextionary else [],
                 relative_to=checkout or Path.cwd(), vectorizer=args.vectorizer)
    if args.all_nodes:
        return run_cluster(args, settings, catalog, source, given)
    plan = catalog.resolve(args.profile, node=args.node, nodes=args.nodes, **given)
    for note in plan.notes:
        say(f"note: {note}")
    if args.print_env:
        print("\n".join(plan.env_lines()))
        return 0
    source_run.check_loop_flags(source, plan, debug=args.debug, watch=args.watch)
    loop = dict(debug=args.debug, debug_port=args.debug_port)
    if args.dry_run:
        command = source_run.command(settings, source, plan, compiled=False, **loop)
        say(f"Weaviate from {source.describe()}")
        print("\n".join(plan.env_lines()))
        if source_run.compiles(source, plan):
            print(source_run.build_line(settings, source.path, debug=args.debug))
        if command.cwd is not None:
            print(f"cd {process.format_argv([str(command.cwd)])}")
        print(command.shell_line())
        return 0
    if source.kind == "image" and not args.image:
        source = default_image(settings, source)
    timeout = args.ready_timeout or READY_TIMEOUT[source.kind]
    single_run.preflight(plan)  # before minutes of compiling
    if args.debug:
        cluster.preflight_port(args.debug_port, "Delve (--debug-port)")
    if args.watch:
        from weaviate_dev.weaviate.watch import SourceWatch

        def rebuild():
            return source_run.command(settings, source, plan, compiled=True, **loop)

        return SourceWatch(plan, source, rebuild, timeout, environ)()
    command = source_run.command(settings, source, plan, compiled=True, **loop)
    if args.detach:
        from weaviate_dev.weaviate.cluster_run import ClusterRun

        say(f"Weaviate from {source.describe()}; data in {plan.data_dir}")
        return ClusterRun(cluster.single(plan, command), environ, ready_timeout=timeout,
                          restart_hint=lambda node: "", detach=True,
                          down_line=down_line(args))()
    return single_run.start(plan, source, command, timeout, environ)


def down_line(args) -> str:
    """Return the command that stops what a `--detach` run leaves running."""
    argv = ["weaviate-dev", "down"]
    if args.data_dir:
        argv += ["--data-dir", str(Path(args.data_dir).expanduser().resolve())]
    return process.format_argv(argv)


def default_image(settings, source):
    """Return `source` with the configured Weaviate image, pulled, or built locally when it
    cannot be pulled."""
    from dataclasses import replace

    from weaviate_dev.weaviate.image import ensure_weaviate_image

    tag = ensure_weaviate_image(settings)
    return replace(source, image=tag)


def run_cluster(args, settings, catalog: ProfileCatalog, source, given: dict) -> int:
    """Run every node of a cluster profile (`--all-nodes`) and return the exit code: work
    out the nodes, print them (--print-env, --dry-run) or check their ports, compile a source
    tree once, then start the cluster."""
    from weaviate_dev.weaviate.cluster_run import ClusterRun

    plans = cluster.plans(catalog, args.profile, nodes=args.nodes, **given)
    for note in dict.fromkeys(note for plan in plans for note in plan.notes):
        say(f"note: {note}")
    if args.print_env:
        for plan in plans:
            print(f"# node {plan.node} ({plan.label})")
            print("\n".join(plan.env_lines()))
        return 0
    if source.kind == "image" and not args.image and not args.dry_run:
        source = default_image(settings, source)
    if args.watch:
        raise UsageError("--watch runs one node: start the node to work on with --node I")
    source_run.check_loop_flags(source, plans[0], debug=args.debug, watch=False)
    if args.debug_node is not None and not args.debug:
        raise UsageError("--debug-node needs --debug")
    debug_node = (args.debug_node or 0) if args.debug else None
    if debug_node is not None and not 0 <= debug_node < len(plans):
        raise UsageError(f"--debug-node {debug_node}: the cluster has nodes 0-{len(plans) - 1}")
    built = (weaviate_build.checkout_binary(settings, source.path)
             if source.kind == "source" else None)
    whole = cluster.assemble(catalog, args.profile, plans, source, built=built)
    debugger = None
    if debug_node is not None:  # that node under Delve, the others as they are
        dlv = delve.dlv_path(settings) if args.dry_run else delve.ensure_delve(settings)
        debugger = delve.Debugger(dlv, args.debug_port)
        whole = cluster.under_debugger(
            whole, debug_node, debugger,
            weaviate_build.checkout_binary(settings, source.path, debug=True))
    if args.dry_run:
        if source.kind == "source":
            print(source_run.build_line(settings, source.path))
        if debug_node is not None:
            print(source_run.build_line(settings, source.path, debug=True))
        print("\n".join(cluster.dry_run_lines(whole)))
        return 0
    cluster.preflight(plans, whole.describe())
    if debugger is not None:
        cluster.preflight_port(debugger.port, "Delve (--debug-port)")
    if source.kind == "source":  # one compile for every node (and one more for the debugged)
        ldflags = weaviate_source.build_ldflags(source.path)
        weaviate_build.compile_checkout(settings, source.path, ldflags=ldflags)
        if debugger is not None:
            weaviate_build.compile_checkout(settings, source.path, ldflags=ldflags, debug=True)
            say(f"node {debug_node}: {debugger.attach_line()}")
    timeout = args.ready_timeout or READY_TIMEOUT["image" if source.kind == "image" else "binary"]
    return ClusterRun(whole, given["environ"], ready_timeout=timeout,
                      restart_hint=lambda node: restart_line(args, node, given["data_root"]),
                      detach=args.detach, down_line=down_line(args))()


def restart_line(args, node: cluster.Node, data_root: Path) -> str:
    """Return the command that starts one node of a running cluster again, with its data."""
    argv = ["weaviate-dev", "run", args.profile, "--node", str(node.index),
            "--nodes", str(node.plan.nodes)]
    if args.vectorizer:
        argv += ["--vectorizer", args.vectorizer]
    if args.contextionary:
        argv.append("--contextionary")
    if args.weaviate_src:
        argv += ["--weaviate-src", str(Path(args.weaviate_src).expanduser().resolve())]
    elif args.weaviate_bin:
        argv += ["--weaviate-bin", str(Path(args.weaviate_bin).expanduser().resolve())]
    elif args.image is not None:
        argv.append(f"--image={args.image}" if args.image else "--image")
    return process.format_argv([*argv, "--data-dir", str(data_root)])

"""`weaviate-dev dev`: the reranking dev environment in one command (what `make dev` runs).

First what takes seconds to check and would otherwise fail minutes in: the model a missing
reranker image needs (a local directory, or the hub answering for it). Then what a fresh
machine lacks (`setup engine`, and `setup weaviate-binary` when no Weaviate is found), and then
exactly the README's two commands, one after the other: `weaviate-dev restart --reranker` (our
reranker, healthy) and `weaviate-dev run local-reranker-transformers` (Weaviate in the
foreground, reranking through it). Ctrl-C stops Weaviate and then the reranker: dev leaves
nothing running behind it (`--keep-reranker` keeps the reranker for the next run).
`--nodes N` runs a cluster instead: `run local-reranker-cluster --all-nodes --nodes N`, every
node reranking through the one reranker.
`--detach` starts both in the background for scripts, notebooks and CI (`run ... --detach`):
once Weaviate is ready (a cluster: raft has every voter) it prints where both answer (`--json`:
one JSON object on stdout, every other line on stderr) and exits 0, leaving them running until
`weaviate-dev down`. A start that fails, or Ctrl-C before it is ready, leaves nothing running.
"""

from __future__ import annotations

import argparse

from weaviate_dev.core import progress
from weaviate_dev.core.settings import Settings

PROFILE = "local-reranker-transformers"
CLUSTER = "local-reranker-cluster"  # ours (profiles.yaml)
RERANKER = "reranker-transformers"


def node_count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def register(subparsers):
    parser = subparsers.add_parser(
        "dev", help="our reranker + a Weaviate reranking through it, ready to query",
        description=__doc__)
    parser.add_argument("--keep-data", action="store_true",
                        help="keep Weaviate's data (and the workspace's state) from the last "
                             "run (passed to restart); without it every dev starts empty")
    parser.add_argument("--keep-reranker", action="store_true",
                        help="leave the reranker running when Weaviate stops")
    parser.add_argument("--workspace", metavar="DIR",
                        help="where the services' local state lives (passed to restart)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print both plans; start nothing")
    parser.add_argument("--nodes", type=node_count, metavar="N",
                        help=f"a cluster of N Weaviate nodes ({CLUSTER} --all-nodes), all "
                             "reranking through the one reranker")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="where Weaviate keeps its data (passed to run, and to restart, "
                             "which deletes the data run made there unless --keep-data)")
    parser.add_argument("--weaviate-bin", metavar="PATH", help="passed to run")
    parser.add_argument("--image", nargs="?", const="", metavar="TAG",
                        help="run Weaviate from an image (passed to run)")
    parser.add_argument("--detach", action="store_true",
                        help="start both in the background, wait until they are ready, print "
                             "where they answer and exit; `weaviate-dev down` stops them")
    parser.add_argument("--json", action="store_true",
                        help="with --detach: print one JSON object (each node's HTTP and gRPC "
                             "address, the reranker's URL, model and engine) on stdout")
    parser.set_defaults(handler=handle)


def steps(args) -> list[list[str]]:
    """The two CLI invocations this verb stands for."""
    restart = ["restart", "--reranker"]
    run = ["run", CLUSTER, "--all-nodes", "--nodes", str(args.nodes)] if args.nodes else \
        ["run", PROFILE]
    if args.keep_data:
        restart.append("--keep-data")
    if args.workspace:
        restart += ["--workspace", args.workspace]
    if args.dry_run:
        restart.append("--dry-run")
        run.append("--dry-run")
    if args.data_dir:  # where run keeps the data, and so where restart deletes it
        restart += ["--data-dir", args.data_dir]
        run += ["--data-dir", args.data_dir]
    if args.weaviate_bin:
        run += ["--weaviate-bin", args.weaviate_bin]
    if args.image is not None:
        run += ["--image", args.image] if args.image else ["--image"]
    if args.detach:
        run.append("--detach")
    return [restart, run]


def setup_steps(args, settings: Settings) -> list[str]:
    """The `setup` steps this machine still needs before the two commands can run."""
    from weaviate_dev.core.errors import DevError
    from weaviate_dev.weaviate import source as weaviate_source

    try:
        weaviate_source.locate(settings, binary=args.weaviate_bin, image=args.image)
    except DevError:
        return ["engine", "weaviate-binary"]
    return ["engine"]


def run_step(argv: list[str], settings: Settings) -> int:
    """Run one step through its verb's own parser and handler (as typed on the command line)."""
    from weaviate_dev.cli.commands import restart, run

    parser = argparse.ArgumentParser(prog="weaviate-dev")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for module in (restart, run):
        module.register(verbs)
    args = parser.parse_args(argv)
    progress.set_verb(args.verb)
    return int(args.handler(args, settings) or 0)


def handle(args, settings: Settings) -> int:
    from weaviate_dev.cli import detached
    from weaviate_dev.core.errors import UsageError

    if args.json and not args.detach:
        raise UsageError("--json goes with --detach")
    restart, run = steps(args)
    if args.dry_run:
        return run_step(restart, settings) or run_step(run, settings)
    if not args.detach:
        return start(args, settings, restart, run)
    with detached.stdout_on_stderr(args.json):  # stdout carries the JSON alone
        code = start(args, settings, restart, run)
    if code == 0:
        detached.report(settings, args, as_json=args.json)
    return code


def start(args, settings: Settings, restart: list[str], run: list[str]) -> int:
    """Check the model, run the setup steps this machine needs, then restart and run. The
    reranker is stopped at the end unless --keep-reranker, or a detached start succeeded."""
    from weaviate_dev.cli.commands import restart as restart_command
    from weaviate_dev.cli.commands import setup
    from weaviate_dev.services import reranker_image
    from weaviate_dev.services.catalog import load_catalog

    reranker_image.check_model(settings)
    setup.run_steps(settings, setup_steps(args, settings))
    running = False  # both left running: a detached start that succeeded
    try:
        code = run_step(restart, settings)
        if code:
            return code
        reranker = load_catalog().service(RERANKER).url(settings.bind_address)
        progress.set_verb("dev")
        what = run[1] + (f", {args.nodes} nodes" if args.nodes else "")
        stops = "Weaviate (the reranker is kept)" if args.keep_reranker else "both"
        if args.detach:
            progress.say(f"reranker ready at {reranker}; starting Weaviate ({what}) in the "
                         f"background; Ctrl-C before it is ready stops {stops}")
        else:
            progress.say(f"reranker ready at {reranker}; starting Weaviate ({what}); Ctrl-C "
                         f"stops {stops}")
        code = run_step(run, settings)
        running = args.detach and code == 0
        return code
    finally:
        if not (args.keep_reranker or running):
            progress.set_verb("dev")
            restart_command.stop_project(settings, workspace=args.workspace)

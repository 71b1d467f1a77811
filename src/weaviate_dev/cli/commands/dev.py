"""`weaviate-dev dev`: start our reranker and a Weaviate that reranks through it, in one
command. `make dev` runs it.

It first checks, in seconds, that the reranker's model can be found: a local directory, or
a model on the Hugging Face Hub. A model that cannot be found stops dev at once, not minutes
later in a build. Next it runs the setup steps a fresh machine still needs (`setup engine`,
and `setup weaviate-binary` when no Weaviate is found). Finally it runs the README's two
commands, one after the other: `weaviate-dev restart --reranker` starts our reranker and
waits until it is healthy, and `weaviate-dev run local-reranker-transformers` runs Weaviate
in the foreground, reranking through it.

Ctrl-C stops Weaviate and then the reranker, so dev leaves nothing running
(`--keep-reranker` keeps the reranker for the next run). `--nodes N` starts a cluster instead
(`run local-reranker-cluster --all-nodes --nodes N`); every node reranks through the one
reranker.

`--detach` starts both in the background, for scripts, notebooks and CI. Once Weaviate is
ready (for a cluster: once raft has every voter), dev prints where both answer and exits 0;
both keep running until `weaviate-dev down`. With `--json` it prints one JSON object on stdout
and every other line on stderr. If the start fails, or Ctrl-C comes before Weaviate is ready,
nothing is left running.
"""

from __future__ import annotations

import argparse

from weaviate_dev.core import progress
from weaviate_dev.core.settings import Settings

PROFILE = "local-reranker-transformers"
CLUSTER = "local-reranker-cluster"  # ours (profiles.yaml)
RERANKER = "reranker-transformers"


def node_count(text: str) -> int:
    """argparse type for --nodes: a whole number, 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def register(subparsers):
    """Add the `dev` verb and its options."""
    parser = subparsers.add_parser(
        "dev", help="start our reranker and a Weaviate that reranks through it",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep-data", action="store_true",
                        help="keep Weaviate's data and the workspace's state from the last run "
                             "(passed to restart); without it every dev starts empty")
    parser.add_argument("--keep-reranker", action="store_true",
                        help="leave the reranker running when Weaviate stops")
    parser.add_argument("--workspace", metavar="DIR",
                        help="the directory of the services' local state (passed to restart)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what restart and run would do, and start nothing")
    parser.add_argument("--nodes", type=node_count, metavar="N",
                        help=f"start a cluster of N Weaviate nodes ({CLUSTER} --all-nodes); "
                             "every node reranks through the one reranker")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the directory for Weaviate's data (passed to run, and to "
                             "restart, which deletes the data run made there unless "
                             "--keep-data)")
    parser.add_argument("--weaviate-bin", metavar="PATH",
                        help="run this weaviate-server binary (passed to run)")
    parser.add_argument("--image", nargs="?", const="", metavar="TAG",
                        help="run Weaviate from an image (passed to run)")
    parser.add_argument("--detach", action="store_true",
                        help="start both in the background, wait until they are ready, print "
                             "where they answer and exit; `weaviate-dev down` stops them")
    parser.add_argument("--json", action="store_true",
                        help="with --detach: print one JSON object on stdout (each node's HTTP "
                             "and gRPC address, the reranker's URL, model and engine)")
    parser.set_defaults(handler=handle)


def steps(args) -> list[list[str]]:
    """Return the two command lines that dev runs: restart's, then run's."""
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
    """Return the `setup` steps this machine still needs before restart and run can work."""
    from weaviate_dev.core.errors import DevError
    from weaviate_dev.weaviate import source as weaviate_source

    try:
        weaviate_source.locate(settings, binary=args.weaviate_bin, image=args.image)
    except DevError:
        return ["engine", "weaviate-binary"]
    return ["engine"]


def run_step(argv: list[str], settings: Settings) -> int:
    """Run one command line (restart's or run's) through that verb's own parser and handler,
    as if it were typed; return its exit code."""
    from weaviate_dev.cli.commands import restart, run

    parser = argparse.ArgumentParser(prog="weaviate-dev")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for module in (restart, run):
        module.register(verbs)
    args = parser.parse_args(argv)
    progress.set_verb(args.verb)
    return int(args.handler(args, settings) or 0)


def handle(args, settings: Settings) -> int:
    """Run `dev`; return its exit code."""
    from weaviate_dev.cli import detached
    from weaviate_dev.core.errors import UsageError

    if args.json and not args.detach:
        raise UsageError("--json needs --detach")
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
    """Check the model, run the setup steps this machine needs, then restart and run; return
    the exit code. At the end the reranker is stopped, unless --keep-reranker is given or a
    detached start succeeded."""
    from weaviate_dev.cli.commands import restart as restart_command
    from weaviate_dev.cli.commands import setup
    from weaviate_dev.services import reranker_image
    from weaviate_dev.services.catalog import load_catalog

    reranker_image.check_model(settings)
    setup.run_steps(settings, setup_steps(args, settings))
    left_running = False  # set when a detached start succeeded
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
        left_running = args.detach and code == 0
        return code
    finally:
        if not (args.keep_reranker or left_running):
            progress.set_verb("dev")
            restart_command.stop_project(settings, workspace=args.workspace)

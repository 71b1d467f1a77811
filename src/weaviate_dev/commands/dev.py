"""`weaviate-dev dev`: the reranking dev environment in one command (what `make dev` runs).

First what takes seconds to check and would otherwise fail minutes in: the model a missing
reranker image needs (a local directory, or the hub answering for it). Then what a fresh
machine lacks (`setup engine`, and `setup weaviate-binary` when no Weaviate is found), and then
exactly the README's two commands, one after the other: `weaviate-dev restart --reranker` (our
reranker on 127.0.0.1:8009, healthy) and `weaviate-dev run local-reranker-transformers`
(Weaviate on 127.0.0.1:8080 in the foreground, reranking through it). Ctrl-C stops Weaviate;
`weaviate-dev down` stops the reranker.
"""

from __future__ import annotations

import sys

PROFILE = "local-reranker-transformers"


def register(subparsers):
    parser = subparsers.add_parser(
        "dev", help="our reranker + a Weaviate reranking through it, ready to query",
        description=__doc__)
    parser.add_argument("--keep-data", action="store_true",
                        help="keep local state between runs (passed to restart)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print both plans; start nothing")
    parser.add_argument("--weaviate-bin", metavar="PATH", help="passed to run")
    parser.add_argument("--image", nargs="?", const="", metavar="TAG",
                        help="run Weaviate from an image (passed to run)")
    parser.set_defaults(handler=handle)


def steps(args) -> list[list[str]]:
    """The two CLI invocations this verb stands for."""
    restart = ["restart", "--reranker"]
    run = ["run", PROFILE]
    if args.keep_data:
        restart.append("--keep-data")
    if args.dry_run:
        restart.append("--dry-run")
        run.append("--dry-run")
    if args.weaviate_bin:
        run += ["--weaviate-bin", args.weaviate_bin]
    if args.image is not None:
        run += ["--image", args.image] if args.image else ["--image"]
    return [restart, run]


def setup_steps(args, settings) -> list[str]:
    """The `setup` steps this machine still needs before the two commands can run."""
    from weaviate_dev import weaviate_source
    from weaviate_dev.errors import DevError

    try:
        weaviate_source.locate(settings, binary=args.weaviate_bin, image=args.image)
    except DevError:
        return ["engine", "weaviate-binary"]
    return ["engine"]


def handle(args, settings) -> int:
    from weaviate_dev.cli import main  # the same parser a user's command goes through
    from weaviate_dev.commands import restart as restart_command
    from weaviate_dev.commands import setup

    restart, run = steps(args)
    if not args.dry_run:
        restart_command.check_reranker_model(settings)
        setup.run_steps(settings, setup_steps(args, settings))
    code = main(restart)
    if code:
        return code
    if not args.dry_run:
        print("weaviate-dev dev: reranker ready at http://127.0.0.1:8009; starting Weaviate "
              "at http://127.0.0.1:8080 (GraphQL /v1/graphql, gRPC 127.0.0.1:50051).\n"
              "  Ctrl-C stops Weaviate; `weaviate-dev down` stops the reranker.",
              file=sys.stderr, flush=True)
    return main(run)

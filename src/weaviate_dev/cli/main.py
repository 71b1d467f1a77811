"""The `weaviate-dev` command: parse the command line and run the chosen verb.

Each verb module under `weaviate_dev.cli.commands` has `register(subparsers)`, which adds its
parser and sets `handler`, and a handler `(args, settings) -> int`. A `DevError` is printed as
one line on stderr and the command exits 1 (2 for a `UsageError`). Ctrl-C exits 130. When the
reader stops reading (`| head`), the command exits 141 without a message.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys

from weaviate_dev import __version__
from weaviate_dev.core import progress
from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.core.settings import Settings

SIGPIPE_EXIT = 128 + signal.SIGPIPE
# The order here is the order in `--help`.
VERBS = ("dev", "setup", "restart", "down", "status", "logs", "run")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every verb registered."""
    parser = argparse.ArgumentParser(
        prog="weaviate-dev",
        description="Bring up a local Weaviate development environment (with a reranker).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every command that weaviate-dev runs")
    subparsers = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)
    for verb in VERBS:
        importlib.import_module(f"weaviate_dev.cli.commands.{verb}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    progress.set_verb(args.verb)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code = int(args.handler(args, Settings.from_env()) or 0)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
    except BrokenPipeError:
        # The reader stopped reading (`weaviate-dev run --list | head`): exit quietly, with
        # the status a tool killed by SIGPIPE has; stdout (and stderr on the same pipe) goes
        # nowhere from now on, so the interpreter's last flush cannot fail again.
        progress.silence(sys.stdout)
        return SIGPIPE_EXIT
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        progress.write(f"weaviate-dev {args.verb}: error: {exc}\n")
        return 2
    except DevError as exc:
        progress.write(f"weaviate-dev {args.verb}: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        progress.write("interrupted\n")
        return 130
    finally:
        progress.flush_all()  # never a failed flush at exit: `Exception ignored`, exit 120
    return code


if __name__ == "__main__":
    raise SystemExit(main())

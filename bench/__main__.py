"""`python -m bench`: run | soak | hostile | abandoned | probes | parity | model | texts | report.

    python -m bench [run]                    # start our reranker (default engine), measure it
    python -m bench run --engine onnx --engine torch --server official=http://127.0.0.1:8091
    python -m bench soak --engine onnx       # 500 x 32 documents at 8 concurrent
    python -m bench hostile --shape tiny     # 64 clients at once, each ~10 MiB of 4-byte text
    python -m bench abandoned                # 6 clients send 1000 long documents, hang up at 2 s
    python -m bench probes                   # probe latency while 200 clients saturate it
    python -m bench parity --engine onnx-int8   # scores vs the CrossEncoder, bench set
    python -m bench model                    # build (or find) the bench model, print its dir
    python -m bench run --shape bge-m3       # the same against a bge-reranker-v2-m3-shaped model
    python -m bench texts                    # show the corpus figures and a sample
    python -m bench report bench-report      # draw a run's report again from its results.json

Every server is measured in the same run, interleaved by concurrency level; the first server
is the one the others are compared with (ratios printed). Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from bench import report
from bench.load import Client, check_loopback, run_queries
from bench import bge_model, model, tiny_model
from bench.rss import PeakSampler, pid_listening_on, wait_until_idle
from bench.texts import build_corpus
from reranker.engine_table import DEFAULT_ENGINE


def _server_specs(values: list[str]) -> list[tuple[str, str]]:
    specs = []
    for value in values:
        label, sep, url = value.partition("=")
        if not sep:
            label, url = value, value
        check_loopback(url)
        specs.append((label, url.rstrip("/")))
    return specs


def _pids(values: list[str]) -> dict[str, int]:
    pids = {}
    for value in values:
        label, _, pid = value.partition("=")
        pids[label] = int(pid)
    return pids


def _start_servers(stack: ExitStack, args, model_dir: Path
                   ) -> list[tuple[str, str, int, str]]:
    from bench.server import engine_spec, local_reranker

    servers = []
    engines = args.engine or ([] if args.server
                              else [os.environ.get("ENGINE") or DEFAULT_ENGINE])
    for spec in engines:
        engine, extra = engine_spec(spec)
        print(f"starting our reranker with ENGINE={spec.replace(',', ' ')} ...", flush=True)
        url, pid, precision = stack.enter_context(local_reranker(model_dir, engine, extra))
        print(f"ours:{spec} computes in {precision}", flush=True)
        servers.append((f"ours:{spec}", url, pid, precision))
    given_pids = _pids(args.pid)
    for label, url in _server_specs(args.server):
        pid = given_pids.get(label) or pid_listening_on(check_loopback(url)[1])
        if pid is None:
            raise SystemExit(f"no process listens on {url}; is the server up? (or pass --pid)")
        servers.append((label, url, pid, external_precision(url)))
    return servers


def external_precision(url: str) -> str:
    """A running server's precision: ours says it on /metrics; fp32 otherwise (the official
    app computes in fp32)."""
    import requests

    from bench.server import precision_of_metrics

    try:
        answer = requests.get(url.rstrip("/") + "/metrics", timeout=5)
    except requests.RequestException:
        return "fp32"
    return (answer.ok and precision_of_metrics(answer.text)) or "fp32"


def cmd_run(args) -> int:
    corpus = build_corpus()
    model_dir = bench_model(args, corpus)
    print(report.header(corpus, model_dir), flush=True)
    queries = corpus.queries
    warm, measured = queries[-2:], queries[:-2]
    rows = []
    bounds = measure_bounds(model_dir, corpus)
    with ExitStack() as stack:
        servers = _start_servers(stack, args, model_dir)
        clients = {label: Client(url) for label, url, _, _ in servers}
        for label, _, _, _ in servers:  # warm-up: first requests pay for lazy init
            run_queries(clients[label], warm, concurrency=1, max_queries=2, max_seconds=120)
        for concurrency in args.concurrency:
            for label, _, pid, precision in servers:
                with PeakSampler(pid) as sampler:
                    result = run_queries(clients[label], measured, concurrency=concurrency,
                                         max_queries=args.queries, max_seconds=args.max_seconds)
                rows.append(report.Row(label, result, sampler.peak,
                                       bounds.get(precision)))
                print(report.format_row(rows[-1]), flush=True)
    print()
    print(report.table(rows))
    print(report.ratios(rows))
    after = measure_bounds(model_dir, corpus)  # again after the load: the machine may drift
    print(report.load_line())
    if args.report:
        from bench import plots

        notes = [f"bound ({precision}) before / after the load: {bounds[precision]:.1f} / "
                 f"{after[precision]:.1f} pairs/s" for precision in bounds]
        written = plots.write(Path(args.report), rows, report.header(corpus, model_dir),
                              [*notes, report.load_line()])
        print(f"report: {written}/report.md and its plots")
    return 1 if any(row.result.errors for row in rows) else 0


def measure_bounds(model_dir: Path, corpus) -> dict[str, float]:
    """The machine's pairs/s bound per precision, measured now and printed."""
    import json

    from bench import bound

    shape = bound.Shape.of(json.loads((model_dir / "config.json").read_text()),
                           bound.mean_tokens(model_dir, corpus))
    bounds = bound.measure(shape)
    for line in bounds.values():
        print(line.line(), flush=True)
    return {precision: b.pairs_per_second for precision, b in bounds.items()}


def cmd_report(args) -> int:
    from bench import plots

    written = plots.redraw(Path(args.directory))
    print(f"report: {written / 'report.md'} and its plots, drawn again")
    return 0


def cmd_soak(args) -> int:
    from bench.soak import soak

    corpus = build_corpus()
    model_dir = bench_model(args, corpus)
    with ExitStack() as stack:
        servers = _start_servers(stack, args, model_dir)
        code = 0
        for label, url, pid, _ in servers:
            result = soak(Client(url), corpus, pid, requests=args.requests,
                          concurrency=args.concurrency)
            print(report.soak_lines(label, result))
            if result.errors or result.growth >= args.max_growth:
                code = 1
    print(report.load_line())
    return code


def cmd_hostile(args) -> int:
    import signal

    from bench import hostile
    from weaviate_dev.core.process import signal_group

    corpus = build_corpus()
    model_dir = bench_model(args, corpus)
    bodies = {name: hostile.BODIES[name](args.body_limit)
              for name in (["many", "one"] if args.body == "both" else [args.body])}
    code = 0
    with ExitStack() as stack:
        servers = _start_servers(stack, args, model_dir)
        for label, url, pid, _ in servers:
            before = hostile.ordinary_seconds(url, corpus)  # also the warm-up
            ours = label.startswith("ours:")  # started here (its own process group): stoppable
            result = hostile.attack(
                url, pid, bodies, clients=args.clients, timeout=args.timeout,
                rss_limit=args.rss_limit * hostile.MB,
                stop=(lambda pid=pid: signal_group(pid, signal.SIGKILL)) if ours else None,
                probe_seconds=args.probe_seconds)
            result.ordinary_before = before
            if not result.stopped_at:
                result.ordinary_after = hostile.ordinary_seconds(url, corpus)
            print("\n".join(hostile.lines(label, result, bodies)), flush=True)
            code |= bool(hostile.verdict(result))
    print(report.load_line())
    return code


def _each_server(args, measure) -> int:
    """Start the servers, then `measure(label, url, pid, corpus)` -> (lines, missed) on each
    in turn, printed; between two, wait until the last is idle (a server still working on
    what a load left would slow the next). Exit status 1 when any missed its bar."""
    corpus = build_corpus()
    model_dir = bench_model(args, corpus)
    code = 0
    with ExitStack() as stack:
        servers = _start_servers(stack, args, model_dir)
        for index, (label, url, pid, _) in enumerate(servers):
            lines, missed = measure(label, url, pid, corpus)
            print("\n".join(lines), flush=True)
            code |= bool(missed)
            if index + 1 < len(servers):
                wait_until_idle(pid)
    print(report.load_line())
    return code


def cmd_abandoned(args) -> int:
    from bench import abandoned

    def measure(label, url, pid, corpus):
        result = abandoned.run(url, pid, corpus, clients=args.clients, hang_up=args.hang_up,
                               wait=args.wait, quiet=args.quiet, chars=args.chars)
        return abandoned.lines(label, result), abandoned.verdict(result)

    return _each_server(args, measure)


def cmd_probes(args) -> int:
    from bench import probes

    def measure(label, url, _pid, corpus):
        result = probes.run(url, corpus, clients=args.clients, seconds=args.seconds,
                            interval=args.interval, timeout=args.timeout)
        return probes.lines(label, result), probes.verdict(result)

    return _each_server(args, measure)


def cmd_parity(args) -> int:
    import dataclasses

    from bench.parity import compare, format_parity

    corpus = build_corpus()
    model_dir = bench_model(args, corpus)
    if args.queries:  # a subset (a large model, an emulated CPU): its own reference cache
        corpus = dataclasses.replace(corpus, queries=corpus.queries[:args.queries])
    code = 0
    for engine in args.engine or ["torch"]:
        result = compare(engine, model_dir, corpus)
        missed = result.failures()
        verdict = "PASS" if not missed else "FAIL: " + "; ".join(missed)
        bar = "fp32" if result.fp32 else "reduced-precision"
        print(f"{format_parity(result)}  -> {verdict} ({bar} bar)", flush=True)
        code |= bool(missed)
    return code


def cmd_model(args) -> int:
    corpus = build_corpus()
    builder = SHAPES[args.shape]
    print(builder.ensure_model(corpus, args.model_dir or builder.default_cache_dir()))
    return 0


# the shape -> the module that builds it
SHAPES = {"minilm": model, "bge-m3": bge_model, "tiny": tiny_model}


def bench_model(args, corpus) -> Path:
    """--model-dir as it is, else the bench model of --shape (built on first use)."""
    builder = SHAPES[args.shape]
    return args.model_dir or builder.ensure_model(corpus, builder.default_cache_dir())


def cmd_texts(args) -> int:
    corpus = build_corpus()
    print(report.corpus_summary(corpus))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)

    def shape(p) -> None:
        p.add_argument("--shape", choices=sorted(SHAPES), default="minilm",
                       help="the bench model: minilm (ms-marco-MiniLM-L-6-v2's shape, the "
                            "default), bge-m3 (bge-reranker-v2-m3's: 568 M parameters) or tiny "
                            "(the tests' 2-layer random model)")

    def servers(p) -> None:
        shape(p)
        p.add_argument("--engine", action="append", default=[],
                       help="start our reranker with this ENGINE (repeatable), optionally with "
                            "settings: ENGINE,KEY=VALUE,... (e.g. openvino,METRICS=off); "
                            f"default: $ENGINE or {DEFAULT_ENGINE}, unless --server is given")
        p.add_argument("--server", action="append", default=[], metavar="LABEL=URL",
                       help="an already running server on 127.0.0.1 (repeatable)")
        p.add_argument("--pid", action="append", default=[], metavar="LABEL=PID",
                       help="the server's root process, when the port's owner is not it "
                            "(Docker: docker inspect -f '{{.State.Pid}}' NAME)")
        p.add_argument("--model-dir", type=Path, default=None,
                       help="model for our servers (default: the bench model, built on first use)")

    run = verbs.add_parser("run", help="Weaviate-pattern load: pairs/s, p50/p95, errors, RSS")
    servers(run)
    run.add_argument("--concurrency", type=int, action="append", default=None,
                     help="simultaneous queries (repeatable; default 1 and 4)")
    run.add_argument("--queries", type=int, default=12, help="queries per level (default 12)")
    run.add_argument("--max-seconds", type=float, default=120.0,
                     help="time budget per server and level (default 120)")
    run.add_argument("--report", default="bench-report",
                     help="directory for report.md and the PNG plots (default ./bench-report; "
                          "'' for none)")
    run.set_defaults(handler=cmd_run)

    soak_p = verbs.add_parser("soak", help="500 x 32 documents at 8 concurrent; RSS growth")
    servers(soak_p)
    soak_p.add_argument("--requests", type=int, default=500)
    soak_p.add_argument("--concurrency", type=int, default=8)
    soak_p.add_argument("--max-growth", type=float, default=0.10)
    soak_p.set_defaults(handler=cmd_soak)

    hostile_p = verbs.add_parser("hostile", help="many clients at once, each posting a body "
                                                 "just under the size limit; RSS, answers, times")
    servers(hostile_p)
    hostile_p.add_argument("--clients", type=int, default=64, help="requests at once (default 64)")
    hostile_p.add_argument("--body", choices=["many", "one", "both"], default="both",
                           help="1000 documents, one long document, or both in turn (default)")
    hostile_p.add_argument("--body-limit", type=int, default=10 * 1024 * 1024,
                           help="the server's MAX_BODY_BYTES: bodies are just under it "
                                "(default 10 MiB)")
    hostile_p.add_argument("--timeout", type=float, default=150.0,
                           help="seconds a client waits for its answer (default 150)")
    hostile_p.add_argument("--rss-limit", type=int, default=6144, metavar="MB",
                           help="kill a server of ours whose process tree passes this RSS, "
                                "and fail (default 6144; a server given by --server is only "
                                "measured)")
    hostile_p.add_argument("--probe-seconds", type=float, default=30.0,
                           help="probe /.well-known/live and /ready (from a process of their "
                                "own) over the first S seconds of the attack; 0: no probes "
                                "(default 30)")
    hostile_p.set_defaults(handler=cmd_hostile)

    abandoned_p = verbs.add_parser("abandoned", help="clients send 1000 long documents and "
                                                     "hang up; an ordinary request after, "
                                                     "and the server's CPU once they left")
    servers(abandoned_p)
    abandoned_p.add_argument("--clients", type=int, default=6, help="clients (default 6)")
    abandoned_p.add_argument("--hang-up", type=float, default=2.0,
                             help="seconds after which they hang up (default 2)")
    abandoned_p.add_argument("--wait", type=float, default=1.0,
                             help="seconds from then to the ordinary request (default 1)")
    abandoned_p.add_argument("--quiet", type=float, default=10.0,
                             help="seconds after its answer over which the server's CPU is "
                                  "measured (default 10)")
    abandoned_p.add_argument("--chars", type=int, default=2600,
                             help="characters of each long document (default 2600: ~600 "
                                  "tokens of English)")
    abandoned_p.set_defaults(handler=cmd_abandoned)

    probes_p = verbs.add_parser("probes", help="probe latency while many clients saturate "
                                               "the server")
    servers(probes_p)
    probes_p.add_argument("--clients", type=int, default=200,
                          help="clients sending 32-document requests back to back (default 200)")
    probes_p.add_argument("--seconds", type=float, default=30.0,
                          help="how long the load lasts (default 30)")
    probes_p.add_argument("--interval", type=float, default=0.5,
                          help="seconds between probes of each path (default 0.5)")
    probes_p.add_argument("--timeout", type=float, default=5.0,
                          help="seconds a probe waits for its answer (default 5)")
    probes_p.set_defaults(handler=cmd_probes)

    parity = verbs.add_parser("parity", help="engines vs the CrossEncoder on the bench set")
    parity.add_argument("--engine", action="append", default=[])
    parity.add_argument("--model-dir", type=Path, default=None)
    parity.add_argument("--queries", type=int, default=None,
                        help="only the first N queries (96 pairs each; default all 64)")
    shape(parity)
    parity.set_defaults(handler=cmd_parity)

    model_p = verbs.add_parser("model", help="build or find the bench model; print its directory")
    model_p.add_argument("--model-dir", type=Path, default=None)
    shape(model_p)
    model_p.set_defaults(handler=cmd_model)

    redraw = verbs.add_parser("report", help="draw a run's report directory again from its "
                                             "results.json (no measuring)")
    redraw.add_argument("directory", help="a directory `run --report` wrote")
    redraw.set_defaults(handler=cmd_report)

    texts = verbs.add_parser("texts", help="corpus figures and a sample")
    texts.set_defaults(handler=cmd_texts)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "run")  # `python -m bench [options]` is `python -m bench run [options]`
    args = build_parser().parse_args(argv)
    if getattr(args, "concurrency", None) is None and args.verb == "run":
        args.concurrency = [1, 4]
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

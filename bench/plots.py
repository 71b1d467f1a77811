"""A run's report directory: the Markdown tables and three PNG plots a reader takes in at a glance.

    report.md             the header, the table, the ratios against the baseline, the bounds
    results.json          the measurements themselves: `python -m bench report DIR` redraws
                          report.md and the plots from it, without measuring again
    pairs_per_second.png  throughput against simultaneous queries, one line per server
    latency.png           each server's query latencies (box: quartiles, whiskers: 5th-95th)
    of_bound.png          each measurement as a fraction of the machine's bound for its precision

matplotlib (the bench extra) draws them off-screen (the Agg backend: no display needed).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from bench import report
from bench.load import LoadResult

RESULTS = "results.json"


def write(directory: Path, rows: list[report.Row], header: str, notes: list[str]) -> Path:
    """Write the report of `rows` into `directory` (created); returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = {"header": header, "notes": notes, "rows": [asdict(row) for row in rows]}
    (directory / RESULTS).write_text(json.dumps(saved, indent=1) + "\n")
    text = [f"# Bench run\n\n```\n{header}\n```\n", report.table(rows), "",
            report.ratios(rows), "", *notes, "",
            "![pairs/s](pairs_per_second.png)", "![latency](latency.png)",
            "![of bound](of_bound.png)", ""]
    (directory / "report.md").write_text("\n".join(text))
    for name, draw in PLOTS:
        with _axes(directory / name) as ax:
            draw(ax, rows)
    return directory


def redraw(directory: Path) -> Path:
    """The report of a run written before (its results.json), drawn again."""
    saved = json.loads((directory / RESULTS).read_text())
    rows = [report.Row(**{**row, "result": LoadResult(**row["result"])}) for row in saved["rows"]]
    return write(directory, rows, saved["header"], saved["notes"])


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def servers(rows: list[report.Row]) -> list[str]:
    return list(dict.fromkeys(row.label for row in rows))


@contextmanager
def _axes(path: Path):
    """One figure's axes, the same size for every plot; saved to `path` and closed after."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    try:
        yield ax
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def draw_throughput(ax, rows: list[report.Row]) -> None:
    for label in servers(rows):
        mine = sorted((r for r in rows if r.label == label), key=lambda r: r.result.concurrency)
        ax.plot([r.result.concurrency for r in mine],
                [r.result.pairs_per_second for r in mine], marker="o", label=label)
    ax.set(xlabel="simultaneous queries (96 documents each, Weaviate's chunks of 32)",
           ylabel="pairs scored per second", title="Throughput under Weaviate's request pattern")
    ax.set_xticks(sorted({r.result.concurrency for r in rows}))
    if _spread(r.result.pairs_per_second for r in rows) > 20:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)  # a linear axis from zero: heights compare as ratios
    ax.grid(True, alpha=0.3)
    ax.legend()


def draw_latency(ax, rows: list[report.Row]) -> None:
    measured = [r for r in rows if r.result.query_seconds]
    ax.boxplot([r.result.query_seconds for r in measured], whis=(5, 95), showfliers=False)
    ax.set_xticks(range(1, len(measured) + 1),
                  [_tick(r) for r in measured], fontsize=8)
    ax.set(ylabel="seconds per query (first chunk sent to last answer)",
           title="Query latency (box: quartiles; whiskers: 5th-95th percentile)")
    if _spread(v for r in measured for v in r.result.query_seconds) > 20:
        ax.set_yscale("log")
    ax.grid(True, axis="y", alpha=0.3)


def draw_of_bound(ax, rows: list[report.Row]) -> None:
    bounded = [r for r in rows if r.bound]
    ax.bar(range(len(bounded)), [r.result.pairs_per_second / r.bound for r in bounded],
           color=["C%d" % servers(rows).index(r.label) for r in bounded])
    ax.set_xticks(range(len(bounded)),
                  [_tick(r) for r in bounded], fontsize=8)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set(ylabel="fraction of the bound\n(GEMM speed in the server's precision)",
           title="How close to this machine's bound", ylim=(0, 1.05))
    ax.grid(True, axis="y", alpha=0.3)


PLOTS = (("pairs_per_second.png", draw_throughput), ("latency.png", draw_latency),
         ("of_bound.png", draw_of_bound))


def _tick(row: report.Row) -> str:
    """A box's or bar's label: the server (its settings on lines of their own), the level."""
    return f"{row.label.replace(',', chr(10))}\n{row.result.concurrency} at once"


def _spread(values) -> float:
    values = [v for v in values if v > 0]
    return max(values) / min(values) if values else 1.0

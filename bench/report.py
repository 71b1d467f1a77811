"""Printing: the run header, one line per measurement, the table, ratios, soak figures."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass

from bench.load import LoadResult

MB = 1024 * 1024


@dataclass
class Row:
    label: str
    result: LoadResult
    peak_rss: int
    bound: float | None = None  # the machine's pairs/s for the server's precision (bench.bound)

    @property
    def of_bound(self) -> str:
        return f"{self.result.pairs_per_second / self.bound:.2f}" if self.bound else "-"


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def header(corpus, model_dir) -> str:
    lens = [len(d.split()) for q in corpus.queries for d in q.documents]
    return (f"bench: {len(corpus.queries)} queries x 96 documents "
            f"({min(lens)}-{max(lens)} words, median {statistics.median(lens):.0f}), "
            f"corpus {corpus.fingerprint} (Python {platform.python_version()}), "
            f"model {model_dir}\n{load_line()}")


def format_row(row: Row) -> str:
    r = row.result
    return (f"{row.label:<18} c={r.concurrency:<2} queries={len(r.query_seconds):<3} "
            f"pairs/s={r.pairs_per_second:7.1f}  p50={r.percentile(50):6.2f}s  "
            f"p95={r.percentile(95):6.2f}s  errors={len(r.errors)}  "
            f"peak RSS={row.peak_rss / MB:6.0f} MB  of bound={row.of_bound}")


def table(rows: list[Row]) -> str:
    lines = ["| server | concurrent queries | queries | pairs/s | p50 s | p95 s | errors | "
             "peak RSS MB | of bound |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        r = row.result
        lines.append(f"| {row.label} | {r.concurrency} | {len(r.query_seconds)} | "
                     f"{r.pairs_per_second:.1f} | {r.percentile(50):.2f} | "
                     f"{r.percentile(95):.2f} | {len(r.errors)} | {row.peak_rss / MB:.0f} | "
                     f"{row.of_bound} |")
    errors = [e for row in rows for e in row.result.errors[:3]]
    if errors:
        lines.append("first errors: " + "; ".join(errors[:5]))
    return "\n".join(lines)


def ratios(rows: list[Row]) -> str:
    """Each server against the last one listed (the comparison server) per concurrency."""
    if len({row.label for row in rows}) < 2:
        return ""
    base_label = rows[-1].label
    lines = []
    for row in rows:
        if row.label == base_label:
            continue
        base = next(b for b in rows if b.label == base_label
                    and b.result.concurrency == row.result.concurrency)
        speed = row.result.pairs_per_second / base.result.pairs_per_second \
            if base.result.pairs_per_second else float("nan")
        p50 = row.result.percentile(50) / base.result.percentile(50)
        goal = "meets" if speed >= 4 and p50 <= 1 / 4 else "misses"
        lines.append(f"{row.label} vs {base_label} at c={row.result.concurrency}: "
                     f"{speed:.2f}x pairs/s, p50 {p50:.2f}x ({goal} the goal >=4x, <=1/4)")
    return "\n".join(lines)


def soak_lines(label: str, result) -> str:
    ok = not result.errors and result.growth < 0.10
    lines = [
        f"soak {label}: {result.requests} requests in {result.seconds:.1f}s, "
        f"errors={len(result.errors)}",
        f"  RSS after request 50: {result.rss_at_mark / MB:.0f} MB, after the last: "
        f"{result.rss_at_end / MB:.0f} MB, growth {result.growth * 100:+.1f}% "
        f"(limit 10%), peak {result.rss_peak / MB:.0f} MB -> {'PASS' if ok else 'FAIL'}",
    ]
    if result.errors:
        lines.append("  first errors: " + "; ".join(result.errors[:3]))
    return "\n".join(lines)


def corpus_summary(corpus) -> str:
    lens = [len(p.text.split()) for p in corpus.passages]
    lines = [f"{len(corpus.passages)} passages ({min(lens)}-{max(lens)} words, median "
             f"{statistics.median(lens):.0f}), {len(corpus.queries)} queries, fingerprint "
             f"{corpus.fingerprint}"]
    for query in corpus.queries[:5]:
        lines.append(f"  query {query.text!r} ({query.source})")
    lines.append(f"  passage: {corpus.passages[0].text[:300]}...")
    return "\n".join(lines)

"""The bench's report directory: the Markdown tables and three PNG plots."""

from __future__ import annotations

from bench import plots, report
from bench.load import LoadResult


def row(label, concurrency, pairs_per_second, latencies, bound):
    result = LoadResult(concurrency=concurrency, wall_seconds=10.0,
                        query_seconds=list(latencies), pairs=int(pairs_per_second * 10))
    return report.Row(label, result, 400 * report.MB, bound)


def test_a_run_becomes_a_report_with_its_plots(tmp_path):
    rows = [row("ours:openvino", 1, 360, [0.26, 0.27, 0.3], 660),
            row("official", 1, 42, [2.2, 2.3, 2.7], 146),
            row("ours:openvino", 4, 346, [1.1, 1.1, 1.2], 660),
            row("official", 4, 42, [7.7, 8.0, 12.1], 146)]
    out = plots.write(tmp_path / "report", rows, "bench: header", ["bound (bf16): 660 pairs/s"])
    text = (out / "report.md").read_text()
    assert "| ours:openvino | 1 | 3 | 360.0 |" in text and "8.57x pairs/s" in text
    assert "bound (bf16): 660 pairs/s" in text
    for name in ("pairs_per_second.png", "latency.png", "of_bound.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
        assert f"]({name})" in text


def test_a_report_is_drawn_again_from_its_results(tmp_path):
    rows = [row("ours:openvino,METRICS=off", 1, 300, [0.3, 0.31], 600),
            row("official", 1, 35, [2.6, 2.7], 134)]
    out = plots.write(tmp_path / "report", rows, "bench: header", ["a note"])
    first = (out / "report.md").read_text()
    for name in ("report.md", "latency.png"):
        (out / name).unlink()
    plots.redraw(out)
    assert (out / "report.md").read_text() == first  # the same measurements, the same report
    assert (out / "latency.png").read_bytes()[:4] == b"\x89PNG"

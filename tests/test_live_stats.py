"""Run statistics stay bounded over a long call, and their percentiles stay honest."""

from __future__ import annotations

import itertools
import random
import sys
import tracemalloc

import pytest

from callcoach.live.stats import LatencyRecord, RunStats, percentile


def test_a_short_run_keeps_every_value_and_its_percentiles_are_exact() -> None:
    record = LatencyRecord()
    values = [float(v) for v in range(100, 0, -1)]
    record.extend(values)
    assert record.exact and len(record) == 100 and record.head == tuple(values)
    for q in (0, 50, 95, 99, 100):
        assert record.percentile(q) == percentile(values, q)
        assert record.percentile(q, skip=5) == percentile(values[5:], q)
    assert LatencyRecord().percentile(50) is None and record.percentile(50, skip=100) is None


def _footprint(record: LatencyRecord) -> tuple[int, int]:
    return sys.getsizeof(record._head), sys.getsizeof(record._counts)


def test_a_million_latencies_take_bounded_memory_and_keep_percentiles_within_half_a_percent() -> None:
    rng = random.Random(7)
    # Log-normal around 20 ms with a heavy tail, plus a slow warm-up and a few hiccups of seconds.
    values = [400.0] * 5 + [rng.lognormvariate(3.0, 0.5) for _ in range(1_000_000)]
    for i in range(1000, len(values), 50_000):
        values[i] = 3000.0 + i / 1000
    record = LatencyRecord()
    record.extend(itertools.islice(values, 0, 10_000))
    sizes_at_10k = _footprint(record)
    # Any hidden growth would show here: 100 000 more values traced allocation by allocation.
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        record.extend(itertools.islice(values, 10_000, 110_000))
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 4096 and peak - before < 16 * 1024, (before, after, peak)
    record.extend(itertools.islice(values, 110_000, None))
    # Then the rest of the million: the stored arrays have not grown (a list would hold ~30 MB by now).
    assert _footprint(record) == sizes_at_10k and sum(sizes_at_10k) < 160 * 1024, sizes_at_10k
    assert not record.exact and len(record) == len(values)

    ordered = sorted(values)
    steady = sorted(values[5:])
    for q in (50.0, 95.0, 99.0, 99.99):
        exact = percentile(ordered, q)
        assert exact is not None
        got = record.percentile(q)
        assert got == pytest.approx(exact, rel=0.005), q
        steady_exact = percentile(steady, q)
        assert record.percentile(q, skip=5) == pytest.approx(steady_exact, rel=0.005), q
    assert record.percentile(100) == max(values)
    assert record.percentile(0) == min(values)


def test_values_outside_the_binned_range_are_clamped_to_the_exact_extremes() -> None:
    record = LatencyRecord(exact_cap=4)
    record.extend([0.0, 0.0, 0.0, 5e7, 5e7, 0.0])
    assert record.percentile(10) == 0.0 and record.percentile(99) == 5e7 and record.percentile(100) == 5e7


def test_run_stats_summary_reads_the_bounded_record() -> None:
    stats = RunStats()
    for v in (10.0, 20.0, 30.0):
        stats.frame_latency_ms.append(v)
    assert stats.as_dict()["frame_latency_ms"] == {"p50": 20.0, "p95": 30.0, "p99": 30.0, "max": 30.0}
    assert RunStats().as_dict()["frame_latency_ms"] == {"p50": None, "p95": None, "p99": None, "max": None}


def test_summary_duration_is_the_analysed_span_without_start_up() -> None:
    # The runner stamps these from its clock: models loaded for 5 s, then frames analysed from 105 s to 112.5 s.
    stats = RunStats(duration_s=13.0, first_frame_s=5.0, first_done_at=105.0, last_done_at=112.5, frames=10)
    summary = stats.as_dict()
    assert summary["duration_s"] == 7.5  # what `analyze` calls duration_s: first frame to last
    assert summary["run_s"] == 13.0  # the whole run, loading included
    assert RunStats(duration_s=4.0).as_dict()["duration_s"] == 0.0  # no frame analysed: no span

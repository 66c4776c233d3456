"""Timing shared by the cases: a warm-up, then the baseline and the measured path interleaved round by
round, so that a noisy neighbour slows both alike; medians are reported."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved_medians(
    baseline: Callable[[], object],
    measured: Callable[[], object],
    *,
    warmup: int = 3,
    rounds: int = 25,
    min_rounds: int = 5,
    budget_s: float = 20,
) -> tuple[float, float]:
    """Median seconds of (baseline, measured); a slow pair stops after `min_rounds` once `budget_s` is spent."""
    for _ in range(warmup):
        measured()
        baseline()
    baseline_times, measured_times = [], []
    deadline = time.perf_counter() + budget_s
    for round_number in range(rounds):
        if round_number >= min_rounds and time.perf_counter() > deadline:
            break
        start = time.perf_counter()
        baseline()
        middle = time.perf_counter()
        measured()
        end = time.perf_counter()
        baseline_times.append(middle - start)
        measured_times.append(end - middle)
    return statistics.median(baseline_times), statistics.median(measured_times)

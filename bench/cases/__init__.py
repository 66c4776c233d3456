"""Benchmark cases: each module has NAME, TARGET (the highest acceptable ratio) and run() -> dict with
baseline_s, measured_s and figures (a dict of numbers worth reporting, such as query counts)."""

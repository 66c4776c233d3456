"""One measurement of a deepest unit changed: the incremental recompute (that KPI and the roll-ups it is
aligned to up to the root, the objectives of those units, their perspectives and scorecards, for the month,
quarter and year) against the full recompute in the same run; target 1 % of it. Also reports the rows it
touched (in proportion to the depth) and the peak memory of a worker process through a full recompute."""

from bench import rollup_world

NAME = "rollup_incremental"
TARGET = 0.01


def run() -> dict:
    t = rollup_world.timings()
    return {
        "baseline_s": t["full_s"],
        "measured_s": t["incremental_s"],
        "figures": {
            "rows_touched": t["incremental_rows"],
            "depth": len(rollup_world.LEVEL_SIZES) - 1,
            "incremental_ms": round(t["incremental_s"] * 1000, 1),
            "worker_idle_mb": t["worker_idle_mb"],
            "worker_peak_mb": t["worker_peak_mb"],
        },
    }

"""A full score recompute of 1,000 units (depth 6, 20 KPIs each, 36 months: 720,000 measurements, with
targets and roll-ups), from empty score tables, against one read-only SQL statement computing every unit's
subtree sums over the same measurement rows in the same run (bench/rollup_world.py)."""

from bench import rollup_world

NAME = "rollup_full"
TARGET = 3


def run() -> dict:
    t = rollup_world.timings()
    data = rollup_world.world()
    return {
        "baseline_s": t["raw_s"],
        "measured_s": t["full_s"],
        "figures": {
            "measurements": t["measurements"],
            "kpis": data["kpis"],
            "score_rows": t["score_rows"],
            "repeat_full_ms": round(t["repeat_full_s"] * 1000),
            "repeat_rows_written": t["repeat_rows_written"],
            "setup_s": data["setup_s"],
        },
    }

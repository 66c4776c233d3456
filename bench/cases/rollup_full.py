"""A full score recompute of 1,000 units (depth 6, 20 KPIs each, 36 months: 720,000 measurements, with
targets and roll-ups), from empty score tables, against one read-only SQL statement computing every unit's
subtree sums over the same measurement rows in the same run (bench/rollup_world.py).

Also reported, to show where the time goes: the roll-up phase of the recompute (every roll-up KPI of the
six strata computed, scored and staged) and the write floor (the recompute's rows copied aside and written
back into the emptied score tables, no computing), each with its ratio to the same baseline."""

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
            "rollup_phase_ms": round(t["rollup_phase_s"] * 1000),
            "rollup_phase_ratio": round(t["rollup_phase_s"] / t["raw_s"], 2),
            "write_floor_ms": round(t["write_floor_s"] * 1000),
            "write_floor_ratio": round(t["write_floor_s"] / t["raw_s"], 2),
            "repeat_full_ms": round(t["repeat_full_s"] * 1000),
            "repeat_rows_written": t["repeat_rows_written"],
            "setup_s": data["setup_s"],
        },
    }

"""The full rebuild of the stored scores of 1,000 units (bench/rollup_world.py) against its write floor: the
same score rows copied aside and written back into the emptied score tables with nothing computed, in the same
run. DESIGN.md section 9 asks for at most 2x: what the rebuild adds to writing its own rows is the computing.

Also reported: a rerun of the rebuild over unchanged data (it should write nothing) and its rows written."""

from bench import rollup_world

NAME = "rollup_rebuild"
TARGET = 2


def run() -> dict:
    t = rollup_world.timings()
    return {
        "baseline_s": t["write_floor_s"],
        "measured_s": t["full_s"],
        "figures": {
            "score_rows": t["score_rows"],
            "repeat_full_ms": round(t["repeat_full_s"] * 1000),
            "repeat_ratio": round(t["repeat_full_s"] / t["write_floor_s"], 2),
            "repeat_rows_written": t["repeat_rows_written"],
        },
    }

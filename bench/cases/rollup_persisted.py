"""The persisted roll-up: the same full recompute (it writes every KPI, objective, perspective and scorecard
score for every month, quarter and year) against one INSERT ... SELECT of the raw subtree sums into a scratch
table in the same run."""

from bench import rollup_world

NAME = "rollup_persisted"
TARGET = 3


def run() -> dict:
    t = rollup_world.timings()
    return {
        "baseline_s": t["insert_select_s"],
        "measured_s": t["full_s"],
        "figures": {
            "score_rows": t["score_rows"],
            "write_floor_ratio": round(t["write_floor_s"] / t["insert_select_s"], 2),
        },
    }

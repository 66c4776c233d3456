"""Where a response time goes, per kind of request: before a gunicorn worker starts on the request (the accept
queue, the connection), in the worker, and after the worker has answered until the client has read the answer.
Joins the driver's notes (request id, name, sent, received) with the server hooks' (bench/load/gunicorn_timing.py)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.load.report import kind_of, percentile


def phases(client_file: Path, server_file: Path) -> dict:
    server: dict[str, dict[str, float]] = {}
    for line in server_file.read_text().splitlines() if server_file.exists() else []:
        tag, what, at = line.split()
        server.setdefault(tag, {})[what] = float(at)
    by_kind: dict[str, dict[str, list[float]]] = {}
    for tag, (name, sent, received) in json.loads(client_file.read_text()).items():
        seen = server.get(tag, {})
        if "start" not in seen or "end" not in seen or name == "login":
            continue
        kind = by_kind.setdefault(kind_of(name), {"before": [], "inside": [], "after": []})
        kind["before"].append(seen["start"] - sent)
        kind["inside"].append(seen["end"] - seen["start"])
        kind["after"].append(received - seen["end"])
    return {
        kind: {
            phase: {"p50_s": _r(percentile(sorted(v), 0.5)), "p95_s": _r(percentile(sorted(v), 0.95))}
            for phase, v in figures.items()
        }
        | {"requests": len(figures["inside"])}
        for kind, figures in by_kind.items()
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def table(found: dict) -> str:
    lines = ["where the time went (p50 / p95): before a worker starts, in the worker, after it answered"]
    for kind, f in found.items():
        parts = ", ".join(
            f"{phase} {f[phase]['p50_s'] * 1000:.0f} / {f[phase]['p95_s'] * 1000:.0f} ms"
            for phase in ("before", "inside", "after")
        )
        lines.append(f"  {kind:<6}{f['requests']:>6} requests: {parts}")
    return "\n".join(lines)

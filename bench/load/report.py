"""What `make load` decides from a run: per kind of request (page, save, api, login) the count, requests per
second and the 50th/95th/99th percentile response times, the errors, and which target was missed.

Targets (issue #19): no error at all; p95 at most 1 s for pages and 0.5 s for saves. API calls are bulk upserts
of values and the reads they need, so they are held to the saves' target. Logging in checks a password hash
(slow on purpose): everyone logs in before the measured time, and the log-ins are reported without a time
target; their errors count like any other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

KINDS = ("page", "save", "api", "login")
P95_TARGETS_S = {"page": 1.0, "save": 0.5, "api": 0.5}
MAX_ERRORS = 0


def percentile(sorted_values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of already sorted values (None when there are none)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def kind_of(name: str) -> str:
    """A request's kind is the first word of its name ("page dashboard", "save data entry")."""
    kind = name.split(" ", 1)[0]
    if kind not in KINDS:
        raise ValueError(f"request name {name!r} must start with one of {', '.join(KINDS)}")
    return kind


def summarize(
    samples: Iterable[tuple[str, float]],
    errors: Mapping[str, int],
    seconds: float,
    users: int,
    server: Mapping[str, list[tuple[float, float, int]]] | None = None,
) -> dict:
    """`samples` are (request name, response time in seconds) of every request, failed ones included;
    `errors` counts the failures by "name: message"; `server` has, by request name, what the server's
    Server-Timing header said of each response (seconds in the server, seconds in SQL, queries), when it said so.
    Set against the response times, the server's own time tells work from waiting for a free worker."""
    by_kind: dict[str, list[float]] = {}
    by_name: dict[str, list[float]] = {}
    for name, elapsed in samples:
        by_kind.setdefault(kind_of(name), []).append(elapsed)
        by_name.setdefault(name, []).append(elapsed)

    def figures(values: list[float]) -> dict:
        values = sorted(values)
        return {
            "requests": len(values),
            "rps": round(len(values) / seconds, 2) if seconds else 0.0,
            **{f"p{q}_s": _round(percentile(values, q / 100)) for q in (50, 95, 99)},
            "max_s": _round(values[-1] if values else None),
        }

    total = sum(len(values) for values in by_kind.values())
    return {
        "users": users,
        "seconds": round(seconds, 1),
        "requests": total,
        "rps": round(total / seconds, 2) if seconds else 0.0,
        "errors": sum(errors.values()),
        "error_messages": dict(sorted(errors.items(), key=lambda item: -item[1])[:20]),
        "kinds": {kind: figures(by_kind[kind]) for kind in KINDS if kind in by_kind},
        "endpoints": {
            name: figures(values) | _server_figures((server or {}).get(name, []))
            for name, values in sorted(by_name.items())
        },
    }


def _server_figures(timings: list[tuple[float, float, int]]) -> dict:
    if not timings:
        return {}
    return {
        "server_p50_s": _round(percentile(sorted(t[0] for t in timings), 0.5)),
        "server_p95_s": _round(percentile(sorted(t[0] for t in timings), 0.95)),
        "sql_p50_s": _round(percentile(sorted(t[1] for t in timings), 0.5)),
        "queries_p50": percentile(sorted(t[2] for t in timings), 0.5),
    }


def missed_targets(summary: dict) -> list[str]:
    """Every target the run missed, as a sentence; an empty list means the run passed. A run without a single
    request of a kind that has a target misses it too (a scenario that silently stopped saving must not pass)."""
    missed = []
    if summary["errors"] > MAX_ERRORS:
        missed.append(f"{summary['errors']} errors (target: {MAX_ERRORS})")
    for kind, target in P95_TARGETS_S.items():
        figures = summary["kinds"].get(kind)
        if not figures or not figures["requests"]:
            missed.append(f"no {kind} request was made")
        elif figures["p95_s"] > target:
            missed.append(f"{kind} p95 {figures['p95_s']:.3f} s (target: at most {target} s)")
    return missed


def table(summary: dict) -> str:
    """The per-kind figures as a text table, then the slowest endpoints by p95."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:.0f} ms"

    lines = [f"{'kind':<8}{'requests':>10}{'rps':>8}{'p50':>10}{'p95':>10}{'p99':>10}{'target p95':>12}"]
    for kind, f in summary["kinds"].items():
        target = ms(P95_TARGETS_S[kind]) if kind in P95_TARGETS_S else "-"
        lines.append(
            f"{kind:<8}{f['requests']:>10}{f['rps']:>8}{ms(f['p50_s']):>10}{ms(f['p95_s']):>10}{ms(f['p99_s']):>10}"
            f"{target:>12}"
        )
    lines.append(
        f"{'all':<8}{summary['requests']:>10}{summary['rps']:>8}   errors: {summary['errors']}"
        f"   users: {summary['users']}   seconds: {summary['seconds']}"
    )
    if "login_phase" in summary:
        phase = summary["login_phase"]
        lines.append(
            f"log-in before the measured time: {phase['logins']} in {phase['seconds']} s,"
            f" p50 {ms(phase['p50_s'])}, p95 {ms(phase['p95_s'])}"
        )
    if "cpu" in summary:
        capacity = summary["cpu"]["cores"] * summary["seconds"]
        shares = ", ".join(
            f"{role} {spent / capacity:.0%}" for role, spent in summary["cpu"]["seconds_by_role"].items()
        )  # fmt: skip
        lines.append(f"processor time while measuring, share of {summary['cpu']['cores']} cores: {shares}")
    lines.append("")
    lines.append("slowest endpoints (p95):")
    slowest = sorted(summary["endpoints"].items(), key=lambda item: -(item[1]["p95_s"] or 0))[:8]
    for name, f in slowest:
        line = f"  {name:<26}{f['requests']:>6}  p50 {ms(f['p50_s']):>8}  p95 {ms(f['p95_s']):>8}"
        if "server_p50_s" in f:
            line += (
                f"   in the server: p50 {ms(f['server_p50_s']):>7}, p95 {ms(f['server_p95_s']):>7},"
                f" SQL {ms(f['sql_p50_s']):>6} in {f['queries_p50']} queries"
            )
        lines.append(line)
    for message, count in summary["error_messages"].items():
        lines.append(f"  error x{count}: {message}")
    return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)

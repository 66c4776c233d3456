"""The benchmark runner: `python -m bench [--case NAME]` (what `make bench` runs).

Runs every case in bench/cases/ against the embedded PostgreSQL and Redis of BSC_DATA_DIR (default
.data/bench), in a database created for the run and dropped after it, then stops the servers. Pages are
rendered as in production (DEBUG=false: no template debugging, no query log). Prints a table, writes
bench/results.json and exits non-zero when a case misses its target (ratio above it) or fails.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import pkgutil
import sys
import traceback
import warnings
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results.json"


def _configure_environment() -> None:
    os.environ.setdefault("BSC_DATA_DIR", ".data/bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bsc.project.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    # The test client speaks plain HTTP to "testserver"; production's HTTPS redirect would answer 301.
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("SECURE_COOKIES", "false")
    os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here


def _discover(only: str | None) -> list:
    import bench.cases

    modules = []
    for info in sorted(pkgutil.iter_modules(bench.cases.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"bench.cases.{info.name}")
        if only is None or only in (module.NAME, info.name) or info.name.startswith(f"{only}_"):
            modules.append(module)
    return modules


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.3f} s"


def _print_table(results: list[dict]) -> None:
    header = ("case", "ratio", "target", "baseline", "measured", "verdict", "figures")
    rows = []
    for result in results:
        ratio = result["ratio"]
        verdict = "FAILED" if ratio is None else ("ok" if ratio <= result["target"] else "MISSED")
        figures = " ".join(f"{key}={value}" for key, value in result["figures"].items())
        rows.append(
            (
                result["case"],
                "-" if ratio is None else f"{ratio:.3g}x",
                f"{result['target']}x",
                _format_seconds(result["baseline_s"]),
                _format_seconds(result["measured_s"]),
                verdict,
                figures,
            )
        )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1])


def _run(cases: list) -> list[dict]:
    """Run the cases in a database created for the run (dropped after it)."""
    from django.db import connections
    from django.test.utils import override_settings, setup_databases, teardown_databases

    # Plain static storage: production's manifest storage needs collectstatic, which a benchmark skips.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    results = []
    try:
        for case in cases:
            print(f"running {case.NAME} …", flush=True)
            result = {"case": case.NAME, "ratio": None, "target": case.TARGET, "baseline_s": None,
                      "measured_s": None, "figures": {}}  # fmt: skip
            try:
                outcome = case.run()
                result.update(
                    ratio=round(outcome["measured_s"] / outcome["baseline_s"], 4),
                    baseline_s=round(outcome["baseline_s"], 6),
                    measured_s=round(outcome["measured_s"], 6),
                    figures=outcome.get("figures", {}),
                )
            except Exception:
                traceback.print_exc()
                result["figures"] = {"error": traceback.format_exc(limit=1).strip().splitlines()[-1]}
            results.append(result)
    finally:
        connections.close_all()
        teardown_databases(old_config, verbosity=0)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--case", help="run only the case with this NAME or module name (or all named NAME_...)")
    args = parser.parse_args(argv)

    _configure_environment()
    embedded = not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    try:
        import django

        django.setup()  # starts the embedded servers when the URLs are unset
        logging.getLogger("axes").setLevel(logging.WARNING)  # force_login would log every sign-in
        cases = _discover(args.case)
        if not cases:
            print(f"No benchmark case named {args.case!r} in {BENCH_DIR / 'cases'}", file=sys.stderr)
            return 2
        results = _run(cases)
    finally:
        if embedded:
            from bsc.project import embedded as servers

            servers.stop()

    print()
    _print_table(results)
    RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS_FILE.relative_to(BENCH_DIR.parent)}")
    missed = [r["case"] for r in results if r["ratio"] is None or r["ratio"] > r["target"]]
    if missed:
        print(f"missed or failed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make load`'s verdict (bench/load/report.py): the figures per kind and the targets that fail the run."""

import pytest

from bench.load.report import kind_of, missed_targets, percentile, summarize, table


def run(samples, errors=None, seconds=10.0):
    return summarize(samples, errors or {}, seconds, users=3)


def passing_samples():
    return [("page dashboard", 0.2)] * 20 + [("save data entry", 0.1)] * 20 + [("api bulk upsert", 0.1)] * 20


def test_percentiles_are_nearest_rank():
    values = [i / 100 for i in range(1, 101)]  # 0.01 … 1.00
    assert percentile(values, 0.50) == 0.50
    assert percentile(values, 0.95) == 0.95
    assert percentile(values, 0.99) == 0.99
    assert percentile([0.3], 0.99) == 0.3
    assert percentile([], 0.5) is None


def test_it_sums_up_each_kind_and_endpoint():
    samples = [("page dashboard", 0.1), ("page map", 0.3), ("save data entry", 0.2), ("login", 2.0)]
    summary = run(samples, seconds=2.0)
    assert summary["requests"] == 4
    assert summary["rps"] == 2.0
    assert summary["kinds"]["page"] == {"requests": 2, "rps": 1.0, "p50_s": 0.1, "p95_s": 0.3, "p99_s": 0.3,
                                        "max_s": 0.3}  # fmt: skip
    assert summary["endpoints"]["save data entry"]["p95_s"] == 0.2
    assert summary["kinds"]["login"]["requests"] == 1


def test_a_run_within_every_target_passes():
    slow_login = [("login", 5.0)] * 5  # a log-in has no time target
    assert missed_targets(run(passing_samples() + slow_login)) == []


def test_a_single_error_fails_the_run():
    summary = run(passing_samples(), errors={"save data entry: answered 200, not 302": 1})
    assert summary["errors"] == 1
    assert missed_targets(summary) == ["1 errors (target: 0)"]


def test_a_slow_p95_fails_its_kind():
    samples = passing_samples() + [("page map", 1.5)] * 2 + [("save session notes", 0.6)] * 2
    assert missed_targets(run(samples)) == [
        "page p95 1.500 s (target: at most 1.0 s)",
        "save p95 0.600 s (target: at most 0.5 s)",
    ]


def test_a_p95_on_the_target_passes():
    samples = [("page map", 1.0)] * 10 + [("save data entry", 0.5)] * 10 + [("api scores", 0.5)] * 10
    assert missed_targets(run(samples)) == []


def test_a_run_without_saves_cannot_pass():
    samples = [("page dashboard", 0.1)] * 10
    assert missed_targets(run(samples)) == ["no save request was made", "no api request was made"]


def test_a_request_name_must_say_its_kind():
    assert kind_of("api bulk upsert") == "api"
    with pytest.raises(ValueError, match="must start with one of page, save, api, login"):
        kind_of("dashboard")


def test_the_table_shares_out_the_processors_by_role():
    summary = run(passing_samples(), seconds=10.0)
    summary["cpu"] = {"cores": 2, "seconds_by_role": {"driver": 2.0, "web": 5.0, "worker": 9.0, "other": 0.0}}
    assert "share of 2 cores: driver 10%, web 25%, worker 45%, other 0%" in table(summary)


def test_the_driver_counts_its_own_processor_time():
    from bench.load.cpu import cpu_seconds_by_role

    before = cpu_seconds_by_role()["driver"]
    sum(i * i for i in range(3_000_000))  # some work of this process
    assert cpu_seconds_by_role()["driver"] > before


def test_a_response_time_splits_into_waiting_for_a_worker_working_and_reading(tmp_path):
    import json

    from bench.load.phases import phases

    client = tmp_path / "client_times.json"
    server = tmp_path / "server_times.log"
    # sent at 100.0, a worker started at 100.6 and answered at 100.7, the client had read it at 100.72
    client.write_text(json.dumps({"1-1": ["save notes", 100.0, 100.72], "1-2": ["page map", 200.0, 200.05]}))
    server.write_text("1-1 start 100.600000\n1-1 end 100.700000\n1-2 start 200.001000\n1-2 end 200.040000\n")
    found = phases(client, server)
    assert found["save"]["requests"] == 1
    assert found["save"]["before"]["p95_s"] == 0.6
    assert found["save"]["inside"]["p95_s"] == 0.1
    assert found["save"]["after"]["p95_s"] == 0.02
    assert found["page"]["before"]["p50_s"] == 0.001

"""The personas of `make load` as locust users. Each logs in as an account of the load world (bench/load/world.py,
read from the file LOAD_WORLD names) that no other simulated person uses, so every save is expected to succeed.
Everyone logs in first, then waits for MEASURING: the measured minutes see 50 open sessions at work, not 50
password checks at once (bench/load/drive.py reports the log-ins on their own).

Request names start with their kind (bench/load/report.py): "page …" for HTML pages, "save …" for forms that
change something, "api …" for the JSON API, "login" for the log-in form. A save that the page answers with its
errors (a refused value, a stale version) is a failure, as is any unexpected status.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import time
from contextlib import contextmanager
from pathlib import Path

import gevent
from gevent.event import Event
from locust import HttpUser, between, task

WORLD = json.loads(Path(os.environ["LOAD_WORLD"]).read_text()) if os.environ.get("LOAD_WORLD") else {}
ORG = f"/o/{WORLD.get('organization', 'northwind')}"
_wait = [float(part) for part in os.environ.get("LOAD_WAIT", "5,15").split(",")]
WAIT = between(_wait[0], _wait[-1])  # think time between one person's actions, in seconds

# The values people enter: on target (green against the load KPIs' baseline 50 and target 90), so no cause or
# action item is asked (a red value needs both: explaining the red is not part of this scenario).
ON_TARGET = (87.0, 99.5)
MEASURING = Event()  # set by the driver once every person is logged in
READY: list[str] = []  # the people logged in (or refused: their requests then fail) and waiting for MEASURING

# What the server says each response cost (its Server-Timing header: total, SQL time, query count), by request name.
SERVER_TIMING: dict[str, list[tuple[float, float, int]]] = {}
_TIMING = re.compile(r'db;dur=([\d.]+);desc="(\d+) quer[^"]*".*total;dur=([\d.]+)')

_ROW = re.compile(r'<input type="hidden" name="version-(\d+)" value="(\d*)">')
_VALUE = re.compile(r'name="value-(\d+)" value="([^"]*)"')
_COMMENT = re.compile(r'name="comment-(\d+)" value="([^"]*)"')


# Every measured request by its X-Load-Id: (name, sent, received) on the machine's clock (time.time()), joined
# after the run with the moments gunicorn's workers started and ended it (bench/load/phases.py).
CLIENT_TIMES: dict[str, tuple[str, float, float]] = {}
_tags = itertools.count()


@contextmanager
def _tagged(name: str, headers: dict):
    """Tag a request so the server's hooks can name it, and note when it was sent and when its answer was read."""
    tag = f"{os.getpid()}-{next(_tags)}"
    headers["X-Load-Id"] = tag
    sent = time.time()
    yield
    CLIENT_TIMES[tag] = (name, sent, time.time())


def _note(name: str, response) -> None:
    found = _TIMING.search(response.headers.get("Server-Timing", ""))
    if found:
        db_ms, queries, total_ms = found.groups()
        SERVER_TIMING.setdefault(name, []).append((float(total_ms) / 1000, float(db_ms) / 1000, int(queries)))


def _start_measured_work() -> None:
    """Wait for MEASURING, then for a think time of one's own before the first action: people who work
    independently do not all click at the same millisecond. (Released together, 50 people sent 50 requests at once
    to 3 workers, and their next actions stayed bunched in waves: the queue that made the saves' p95.)"""
    MEASURING.wait()
    gevent.sleep(random.uniform(0, _wait[-1]))


def _next(pool: list, counter: itertools.count):
    """The pool's next account; the world holds at least as many as the scenario runs at once."""
    return pool[next(counter) % len(pool)]


class Person(HttpUser):
    abstract = True
    wait_time = WAIT

    def login(self, email: str) -> None:
        self.client.get("/accounts/login/", name="page login")
        with self.client.post(
            "/accounts/login/",
            data={"username": email, "password": WORLD["password"], "csrfmiddlewaretoken": self.csrf()},
            allow_redirects=False, name="login", catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"log-in answered {response.status_code}, not a redirect")
        READY.append(email)
        _start_measured_work()

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def page(self, url: str, name: str) -> str:
        headers: dict = {}
        with _tagged(f"page {name}", headers):
            response = self.client.get(url, headers=headers, name=f"page {name}", catch_response=True)
        with response:
            _note(f"page {name}", response)
            if response.status_code != 200:
                response.failure(f"answered {response.status_code}")
            return response.text

    def save(self, url: str, data: dict | list, name: str, *, expect: int = 302, htmx: bool = False) -> str:
        headers = {"X-CSRFToken": self.csrf(), **({"HX-Request": "true"} if htmx else {})}
        with _tagged(f"save {name}", headers):
            response = self.client.post(
                url, data=data, headers=headers, allow_redirects=False, name=f"save {name}", catch_response=True
            )
        with response:
            _note(f"save {name}", response)
            if response.status_code != expect:
                response.failure(f"answered {response.status_code}, not {expect}")
            elif htmx and "row-invalid" in response.text:
                response.failure("the row was refused: " + _first_error(response.text))
            return response.headers.get("Location", "") or response.text


def _first_error(text: str) -> str:
    found = re.search(r'role="alert">([^<]{0,200})', text)
    return html.unescape(found.group(1)) if found else "(no message)"


class Executive(Person):
    """Opens the dashboard, the scorecards and the strategy maps of the demo's units."""

    weight = 3
    accounts = itertools.count()

    def on_start(self) -> None:
        self.login(_next(WORLD["executives"], Executive.accounts))

    @task(3)
    def dashboard(self) -> None:
        self.page(f"{ORG}/dashboard/", "dashboard")

    @task(2)
    def scorecards(self) -> None:
        self.page(f"{ORG}/scorecards/", "scorecards")

    @task(4)
    def scorecard(self) -> None:
        self.page(f"{ORG}/scorecards/{random.choice(WORLD['units'])}/", "scorecard")

    @task(3)
    def strategy_map(self) -> None:
        self.page(f"{ORG}/map/{random.choice(WORLD['units'])}/", "map")

    @task(1)
    def overview(self) -> None:
        self.page(f"{ORG}/", "overview")


class DepartmentHead(Person):
    """Enters the month's values of their team: the whole page at once, or one row with htmx."""

    weight = 4
    accounts = itertools.count()

    def on_start(self) -> None:
        account = _next(WORLD["heads"], DepartmentHead.accounts)
        self.unit = account["unit"]
        self.login(account["email"])

    def entry_page(self) -> tuple[str, dict[str, dict]]:
        url = f"{ORG}/data-entry/?period={WORLD['month']}"
        text = self.page(url, "data entry")
        values = {pk: html.unescape(v) for pk, v in _VALUE.findall(text)}
        comments = {pk: html.unescape(v) for pk, v in _COMMENT.findall(text)}
        rows = {pk: {"version": version, "value": values.get(pk, ""), "comment": comments.get(pk, "")}
                for pk, version in _ROW.findall(text)}  # fmt: skip
        return url, rows

    @staticmethod
    def fields(pk: str, row: dict) -> dict:
        return {f"version-{pk}": row["version"], f"value-{pk}": row["value"], f"comment-{pk}": row["comment"]}

    @task(3)
    def save_all(self) -> None:
        url, rows = self.entry_page()
        if not rows:
            return
        for pk in random.sample(sorted(rows), k=min(3, len(rows))):
            rows[pk].update(value=f"{random.uniform(*ON_TARGET):.1f}", comment="Entered during the load test.")
        data = {"period": WORLD["month"], "unit": "", "decimal_separator": ".", "kpi": sorted(rows)}
        for pk, row in rows.items():
            data.update(self.fields(pk, row))
        location = self.save(url, data, "data entry")
        if location.startswith("/"):
            self.page(location, "data entry")

    @task(2)
    def save_row(self) -> None:
        _, rows = self.entry_page()
        if not rows:
            return
        pk = random.choice(sorted(rows))
        rows[pk].update(value=f"{random.uniform(*ON_TARGET):.1f}", comment="Row saved during the load test.")
        data = {"period": WORLD["month"], "unit": "", "decimal_separator": ".", "kpi": pk, **self.fields(pk, rows[pk])}
        self.save(f"{ORG}/data-entry/{pk}/", data, "data entry row", expect=200, htmx=True)

    @task(1)
    def scorecard(self) -> None:
        self.page(f"{ORG}/scorecards/{self.unit}/", "scorecard")


class Coach(Person):
    """Opens the coaching list and their session, and writes its notes."""

    weight = 2
    accounts = itertools.count()

    def on_start(self) -> None:
        account = _next(WORLD["coaches"], Coach.accounts)
        self.session = f"{ORG}/coaching/sessions/{account['session']}/"
        self.notes = 0
        self.login(account["email"])

    @task(1)
    def sessions(self) -> None:
        self.page(f"{ORG}/coaching/", "coaching")

    @task(2)
    def session(self) -> None:
        self.page(self.session, "session")

    @task(3)
    def write_notes(self) -> None:
        self.page(f"{self.session}edit/", "session notes")
        self.notes += 1
        data = {
            "agenda": "Progress on the red KPIs.",
            "notes": f"- Reviewed the month's values (take {self.notes}).\n- **Scrap** is down; lead time still red.",
            "wins": "Line 2 on plan.",
            "challenges": "Two KPIs without values yet.",
        }
        location = self.save(f"{self.session}edit/", data, "session notes")
        if location.startswith("/"):
            self.page(location, "session")


class ApiClient(HttpUser):
    """A nightly data feed run continuously: reads the values it owns with their versions, sends them all back
    changed in one bulk upsert, and now and then reads its unit's scores."""

    weight = 1
    wait_time = WAIT
    accounts = itertools.count()

    def on_start(self) -> None:
        account = _next(WORLD["feeds"], ApiClient.accounts)
        self.client.headers["Authorization"] = f"Bearer {account['token']}"
        self.unit, self.kpis, self.versions = account["unit"], account["kpis"], {}
        self.read_versions()
        READY.append(account["email"])
        _start_measured_work()

    def api(self, method: str, url: str, name: str, body=None):
        headers: dict = {}
        with _tagged(f"api {name}", headers):
            response = self.client.request(
                method, f"/api/v1{ORG}/{url}", json=body, headers=headers, name=f"api {name}", catch_response=True
            )
        with response:
            _note(f"api {name}", response)
            if response.status_code != 200:
                response.failure(f"answered {response.status_code}: {response.text[:200]}")
                return None
            return response.json()

    def read_versions(self) -> None:
        month = WORLD["month"]
        body = self.api("GET", f"measurements/?period_from={month}&period_to={month}&limit=500", "measurements")
        mine = set(self.kpis)
        if body is not None:
            self.versions = {m["kpi"]: m["version"] for m in body["results"] if m["kpi"] in mine}

    @task(3)
    def bulk_upsert(self) -> None:
        items = [
            {"kpi": str(pk), "period": WORLD["month"], "value": f"{random.uniform(*ON_TARGET):.1f}",
             "comment": "From the data feed.", **({"version": self.versions[pk]} if pk in self.versions else {})}
            for pk in self.kpis
        ]  # fmt: skip
        saved = self.api("POST", "measurements/bulk/", "bulk upsert", items)
        if saved is None:
            self.read_versions()  # start again from what is stored
        else:
            self.versions = {m["kpi"]: m["version"] for m in saved}

    @task(1)
    def scores(self) -> None:
        self.api("GET", f"scores/?unit={self.unit}&period={WORLD['month']}", "scores")

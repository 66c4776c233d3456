"""Department heads as the fault tests see them: a browser-like HTTP session against the served product that logs
in, loads the data-entry page and saves every value of it at once ("Save all"), recording what each save was
answered; and the bookkeeping that tells, afterwards, which saves reached the database."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

UNAVAILABLE = "The database is unavailable"  # the page's message (templates/503.html)


@dataclass
class Save:
    head: str
    attempt: int
    values: dict[int, int]  # KPI id -> the value sent (unique per KPI across the run)
    outcome: str  # committed (redirected back to the page), refused (a page saying so), no answer, or "HTTP <n>"
    detail: str = ""


@dataclass
class HeadSession:
    base_url: str
    slug: str
    email: str
    password: str
    kpis: list[int]
    number: int
    saves: list[Save] = field(default_factory=list)
    page_failures: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self.http = requests.Session()

    def log_in(self) -> None:
        self.http.get(f"{self.base_url}/accounts/login/", timeout=120)
        answer = self.http.post(
            f"{self.base_url}/accounts/login/",
            data={"username": self.email, "password": self.password},
            headers={"X-CSRFToken": self.http.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=120,
        )
        assert answer.status_code == 302, f"{self.email} could not log in: {answer.status_code}"

    @property
    def page_url(self) -> str:
        return f"{self.base_url}/o/{self.slug}/data-entry/"

    def save_all(self, month: str, attempt: int) -> Save | None:
        """Load the page, type a new value in each of the head's rows and press "Save all". None when the page
        itself did not load (nothing was sent, so it is no save)."""
        try:
            page = self.http.get(self.page_url, params={"period": month}, timeout=120)
        except requests.RequestException as error:
            self.page_failures[type(error).__name__] += 1
            return None
        if page.status_code != 200:
            self.page_failures[f"HTTP {page.status_code}"] += 1
            return None
        versions = {kpi: _hidden(page.text, f"version-{kpi}") for kpi in self.kpis}
        values = {kpi: 1000 + attempt * 10 + index for index, kpi in enumerate(self.kpis)}  # green: above target
        data = {"period": month, "unit": "", "decimal_separator": ".", "kpi": [str(kpi) for kpi in self.kpis]}
        for kpi in self.kpis:
            data |= {f"value-{kpi}": str(values[kpi]), f"comment-{kpi}": f"attempt {attempt}"}
            data[f"version-{kpi}"] = versions[kpi]
        save = Save(self.email, attempt, values, "")
        try:
            answer = self.http.post(
                self.page_url,
                data=data,
                headers={"X-CSRFToken": self.http.cookies["csrftoken"]},
                allow_redirects=False,
                timeout=120,
            )
        except requests.RequestException as error:
            save.outcome, save.detail = "no answer", type(error).__name__
        else:
            if answer.status_code == 302 and "/data-entry/" in answer.headers.get("Location", ""):
                save.outcome = "committed"
            elif answer.status_code == 503 and UNAVAILABLE in answer.text:
                save.outcome = "refused"
            else:
                save.outcome = f"HTTP {answer.status_code}"
                text = (
                    answer.text[answer.text.find('id="entry-errors"') :]
                    if "entry-errors" in answer.text
                    else answer.text
                )
                save.detail = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))[:300]
        self.saves.append(save)
        return save

    def keep_saving(self, month: str, stop: threading.Event, pause: float = 0.05) -> None:
        attempt = 0
        while not stop.is_set():
            attempt += 1
            if self.save_all(month, attempt) is None:
                time.sleep(0.2)  # the page did not load: the person waits a moment and reloads
            time.sleep(pause)


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"the data-entry page has no field {name}"
    return match.group(1)


def stored_values(stack, month: str) -> set[tuple[int, int]]:
    """Every (KPI, value) the measurement history (pghistory, written by a trigger in the saving transaction)
    holds for the month: what some committed transaction wrote."""
    rows = stack.sql("SELECT kpi_id, value FROM kpis_measurementevent WHERE period = to_date(%s, 'YYYY-MM')", [month])
    return {(kpi, int(value)) for kpi, value in rows}


def tally(saves: list[Save], stored: set[tuple[int, int]]) -> dict:
    """What became of the saves: answered committed / refused (with the page's message) / anything else; written
    in full, not at all, or half (some of the values of one save stored, others not); and lost (answered as
    committed but not in the database). A save refused whose values were stored all the same is counted too:
    the database committed as the connection died, and the person, told it may not have been saved, retries."""
    figures = Counter()
    problems = []
    for save in saves:
        figures["attempted"] += 1
        figures[save.outcome] += 1
        present = sum((kpi, value) in stored for kpi, value in save.values.items())
        if 0 < present < len(save.values):
            figures["half written"] += 1
            problems.append(f"half written: {save}")
        if save.outcome == "committed" and present < len(save.values):
            figures["lost"] += 1
            problems.append(f"lost: {save}")
        if save.outcome != "committed" and present == len(save.values):
            figures["refused but stored"] += 1
        if save.outcome not in ("committed", "refused"):
            problems.append(f"unclear answer: {save}")
    return {"figures": dict(figures), "problems": problems}

"""The monthly close (issue 17, kpis/period_close.py): a closed month refuses every write to its values and targets
(pages, API, import, recalibration) naming who closed it and when; only an admin reopens it, with a reason; its
stored scores stay as they were through definition changes and rebuilds until it is reopened; and another
organization neither closes nor sees it."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from bsc import services as bsc_services
from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import period_close, services
from kpis.models import ImportBatch, ImportStatus, KpiScore, Measurement, PeriodClose, ScorecardScore, Target
from kpis.recompute import scores_recompute, scores_recompute_full
from tests import factories


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    """The module's months, due dates and "closed on" dates are written for 18 Nov 2026: it travels there itself
    (before the world is built), whatever instant `make test-dates` pins the suite to."""
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)  # the pinned clock reads 18 Nov 2026: both months are over
# Eve Exec closes October on the pinned day (the organization's zone is UTC's date here).
CLOSED = (
    "Oct 2026 is closed for Operations (closed by Eve Exec on 18 Nov 2026): OTD's values and targets of that period "
    "cannot change. An admin can reopen it."
)


@pytest.fixture
def exec_a(world):
    user = factories.make_user("eve@acme.test", full_name="Eve Exec")
    factories.add_member(world.org_a, Role.EXECUTIVE, user=user)
    return user


@pytest.fixture
def otd(world, as_committed):
    """A monthly KPI of Assembly (below Operations) with targets and values in September and October, scored."""
    with organization_scope(world.org_a), as_committed():
        kpi = services.kpi_create(unit=world.department_a, name="On-time delivery", code="OTD", baseline=Decimal(80))
        for month, value in ((SEP, 95), (OCT, 90)):
            services.target_create(kpi=kpi, period=month, value=Decimal(100))
            services.measurement_record(kpi=kpi, period=month, value=Decimal(value), by=world.admin_a, schedule=False)
    scores_recompute_full(organization=world.org_a)
    return kpi


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def close_october(user, unit) -> dict:
    response = api(user).post("/api/v1/o/acme/period-closes/", {"unit": unit.pk, "month": "2026-10"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def values(world) -> dict:
    with organization_scope(world.org_a):
        return {(m.kpi.code, m.period): (m.value, m.version) for m in Measurement.objects.select_related("kpi")}


BEFORE = {("OTD", SEP): (Decimal(95), 1), ("OTD", OCT): (Decimal(90), 1)}


def test_an_executive_closes_a_month_and_the_api_lists_it_with_who_and_when(world, otd, exec_a):
    body = close_october(exec_a, world.division_a)
    assert (body["unit_name"], body["month"], body["is_closed"], body["closed_by"]) == (
        "Operations", "2026-10", True, "Eve Exec"
    )  # fmt: skip
    listed = api(world.viewer_a).get(f"/api/v1/o/acme/period-closes/?unit={world.department_a.pk}").json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]  # a close of Operations covers Assembly below
    again = api(world.admin_a).post(
        "/api/v1/o/acme/period-closes/", {"unit": world.department_a.pk, "month": "2026-10"}, format="json"
    )
    assert again.status_code == 400
    assert again.json() == {
        "month": ["Oct 2026 is already closed for Operations (closed by Eve Exec on 18 Nov 2026)."]
    }  # fmt: skip


def test_a_closed_month_refuses_the_data_entry_page(world, otd, exec_a):
    close_october(exec_a, world.division_a)
    data = {"period": "2026-10", "decimal_separator": ".", "kpi": [otd.pk],
            f"value-{otd.pk}": "97", f"comment-{otd.pk}": "", f"version-{otd.pk}": "1"}  # fmt: skip
    response = page_client(world.admin_a).post(reverse("data_entry", args=["acme"]), data)
    assert CLOSED in html.unescape(response.content.decode())
    assert values(world) == BEFORE


def test_a_closed_month_refuses_the_api_single_and_bulk_writes(world, otd, exec_a):
    close_october(exec_a, world.division_a)
    client = api(world.admin_a)
    measurement = Measurement.objects.for_organization(world.org_a).get(kpi=otd, period=OCT)
    single = client.patch(
        f"/api/v1/o/acme/measurements/{measurement.pk}/", {"value": "97", "version": 1}, format="json"
    )
    assert (single.status_code, single.json()) == (400, {"period": [CLOSED]})
    bulk = client.post(
        "/api/v1/o/acme/measurements/bulk/",
        [{"kpi": "OTD", "period": "2026-09", "value": "96", "version": 1},
         {"kpi": "OTD", "period": "2026-10", "value": "97", "version": 1}],
        format="json",
    )  # fmt: skip
    assert (bulk.status_code, bulk.json()) == (400, [{"index": 1, "errors": {"period": [CLOSED]}}])
    assert values(world) == BEFORE  # all or nothing: September unchanged too


def test_a_closed_month_refuses_target_writes_and_recalibration(world, otd, exec_a):
    close_october(exec_a, world.division_a)
    target = Target.objects.for_organization(world.org_a).get(kpi=otd, period=OCT)
    response = api(world.admin_a).patch(
        f"/api/v1/o/acme/targets/{target.pk}/", {"value": "120", "reason": "Stretch"}, format="json"
    )
    assert (response.status_code, response.json()) == (400, {"period": [CLOSED]})
    with organization_scope(world.org_a), pytest.raises(ValidationError) as refused:
        services.target_recalibrate(target=target, value=Decimal(110), reason="Stretch", by=world.admin_a)
    assert refused.value.message_dict == {"period": [CLOSED]}
    page = page_client(world.admin_a).post(
        reverse("target_recalibrate", args=["acme", otd.pk, target.pk]),
        {f"t{target.pk}-value": "110", f"t{target.pk}-reason": "Stretch"},
    )
    assert CLOSED in html.unescape(page.content.decode())
    target.refresh_from_db()
    assert (target.value, target.original_value) == (Decimal(100), None)


def test_a_closed_month_refuses_an_import_naming_the_rows(world, otd, exec_a):
    client = page_client(world.admin_a)
    upload = SimpleUploadedFile("values.csv", b"code,period,value\nOTD,2026-09,96\nOTD,2026-10,97\n")
    client.post(reverse("kpi_import", args=["acme"]), {"file": upload, "decimal_separator": "."})
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    close_october(exec_a, world.division_a)  # closed between the preview and the confirmation
    client.post(reverse("kpi_import_confirm", args=["acme", batch.pk]))
    batch.refresh_from_db()
    assert (batch.status, batch.error) == (
        ImportStatus.FAILED,
        "Some rows are for closed periods: OTD 2026-10 (closed by Eve Exec on 18 Nov 2026); so nothing was imported. "
        "An admin can reopen a period; or remove those rows and upload the file again.",
    )
    assert values(world) == BEFORE


def test_reopening_needs_an_admin_and_a_reason_and_then_writes_are_taken(world, otd, exec_a):
    close = close_october(exec_a, world.division_a)
    url = f"/api/v1/o/acme/period-closes/{close['id']}/reopen/"
    refused = api(exec_a).post(url, {"reason": "Late invoice"}, format="json")
    assert (refused.status_code, refused.json()) == (
        403, {"detail": "Your role (executive) does not allow this: reopen a closed month."}
    )  # fmt: skip
    blank = api(world.admin_a).post(url, {"reason": "  "}, format="json")
    assert (blank.status_code, blank.json()) == (
        400, {"reason": ["Say why the month is reopened; the reason is kept with its history."]}
    )  # fmt: skip
    assert PeriodClose.objects.for_organization(world.org_a).get().reopened_at is None
    reopened = api(world.admin_a).post(url, {"reason": "Late invoice"}, format="json").json()
    assert (reopened["is_closed"], reopened["reopened_by"], reopened["reopen_reason"]) == (
        False, "Admin of acme", "Late invoice"
    )  # fmt: skip
    with organization_scope(world.org_a):
        services.measurement_record(kpi=otd, period=OCT, value=Decimal(97), by=world.admin_a, expected_version=1)
    assert values(world)[("OTD", OCT)] == (Decimal(97), 2)
    history = api(world.admin_a).get("/api/v1/o/acme/period-closes/").json()["results"]
    assert [(c["month"], c["closed_by"], c["reopen_reason"]) for c in history] == [
        ("2026-10", "Eve Exec", "Late invoice")
    ]  # fmt: skip


def test_the_reopen_page_refuses_a_missing_reason(world, otd, exec_a):
    close = close_october(exec_a, world.division_a)
    response = page_client(world.admin_a).post(reverse("period_reopen", args=["acme", close["id"]]), {"reason": ""})
    assert response.status_code == 400
    assert "Say why the month is reopened" in html.unescape(response.content.decode())
    assert PeriodClose.objects.for_organization(world.org_a).get().reopened_at is None


def test_department_heads_and_viewers_cannot_close(world, otd):
    head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user
    for user in (head, world.viewer_a):
        response = api(user).post(
            "/api/v1/o/acme/period-closes/", {"unit": world.division_a.pk, "month": "2026-10"}, format="json"
        )
        assert response.status_code == 403
        page = page_client(user).post(
            reverse("period_close", args=["acme", world.division_a.pk]), {"period": "2026-10"}
        )
        assert page.status_code == 403
    assert not PeriodClose.objects.for_organization(world.org_a).exists()


def test_another_organization_can_neither_close_nor_see_a_close(world, otd, exec_a):
    close = close_october(exec_a, world.division_a)
    outsider = api(world.member_b)
    assert outsider.get("/api/v1/o/acme/period-closes/").status_code == 404
    own = outsider.post(
        "/api/v1/o/globex/period-closes/", {"unit": world.division_a.pk, "month": "2026-10"}, format="json"
    )
    assert own.status_code == 400 and "unit" in own.json()  # Acme's unit does not exist in Globex
    assert outsider.get("/api/v1/o/globex/period-closes/").json()["results"] == []
    assert outsider.post(f"/api/v1/o/globex/period-closes/{close['id']}/reopen/", {"reason": "x"}).status_code == 404
    page = page_client(world.member_b).get(reverse("period_close", args=["globex", world.division_a.pk]))
    assert page.status_code == 404


def test_the_checklist_counts_values_and_reds_without_a_cause(world, otd, as_committed):
    with organization_scope(world.org_a), as_committed():
        services.kpi_create(unit=world.division_a, name="Audit", code="AUD", baseline=Decimal(0))  # no value
        services.measurement_record(kpi=otd, period=OCT, value=Decimal(81), by=world.admin_a, expected_version=1)
    scores_recompute_full(organization=world.org_a)
    rows = period_close.close_checklist(unit=world.division_a, month=OCT)
    assert [(r.unit.name, r.due, r.missing, r.reds_without_cause) for r in rows] == [
        ("Operations", 1, ["AUD"], []), ("Assembly", 1, [], ["OTD"])
    ]  # fmt: skip
    response = api(world.viewer_a).get(
        f"/api/v1/o/acme/period-closes/checklist/?unit={world.division_a.pk}&period=2026-10"
    )
    assert [(r["unit_name"], r["with_value"], r["missing"], r["reds_without_cause"]) for r in response.json()] == [
        ("Operations", 0, ["AUD"], []), ("Assembly", 1, [], ["OTD"])
    ]  # fmt: skip


def test_the_checklist_counts_ambers_without_a_cause_when_the_organization_asks_for_one(world, otd, as_committed):
    def september() -> list[tuple[str, list[str]]]:
        rows = period_close.close_checklist(unit=world.division_a, month=SEP)
        return [(r.unit.name, r.reds_without_cause) for r in rows]

    # September's 95 of 100 from 80 scores 0.75: amber, entered without a comment
    assert september() == [("Operations", []), ("Assembly", [])]
    with organization_scope(world.org_a), as_committed():
        bsc_services.organization_update(organization=world.org_a, amber_requires_cause=True)
    assert september() == [("Operations", []), ("Assembly", ["OTD"])]
    page = page_client(world.admin_a).get(
        reverse("period_close", args=["acme", world.division_a.pk]) + "?period=2026-09"
    )
    assert "1 KPI value due: 0 without a value, 1 red or amber without a cause." in html.unescape(page.content.decode())
    with organization_scope(world.org_a), as_committed():
        services.measurement_record(
            kpi=otd, period=SEP, value=Decimal(95), comment="Supplier strike", by=world.admin_a, expected_version=1
        )
    assert september() == [("Operations", []), ("Assembly", [])]


def scores(world) -> dict:
    with organization_scope(world.org_a):
        kpi = {(s.period_kind, s.period): s.score for s in KpiScore.objects.all()}
        card = {
            (s.period_kind, s.period): s.score
            for s in ScorecardScore.objects.filter(scorecard__unit=world.department_a)
        }
    return {"kpi": kpi, "card": card}


def test_a_closed_months_scores_survive_a_definition_change_and_a_rebuild_until_reopened(world, otd, exec_a):
    before = scores(world)
    assert before["kpi"][("month", OCT)] == Decimal("0.5000")  # (90 - 80) / (100 - 80)
    close = close_october(exec_a, world.division_a)
    with organization_scope(world.org_a):
        services.kpi_update(kpi=otd, baseline=Decimal(70))  # (90 - 70) / 30 = 0.6667 in October once open
    scores_recompute(organization=world.org_a, months=[SEP, OCT], kpi_ids=[otd.pk], unit_ids=[world.department_a.pk])
    incremental = scores(world)
    scores_recompute_full(organization=world.org_a)
    after = scores(world)
    assert after == incremental  # the incremental pass and the rebuild agree on what stays
    assert after["kpi"][("month", OCT)] == before["kpi"][("month", OCT)]
    assert after["card"][("month", OCT)] == before["card"][("month", OCT)]
    assert after["kpi"][("month", SEP)] == Decimal("0.8333")  # September is open: (95 - 70) / 30
    # a window is frozen only when all its months are closed: Q3 (Jul-Sep) is open and follows the new baseline
    assert after["kpi"][("quarter", date(2026, 7, 1))] != before["kpi"][("quarter", date(2026, 7, 1))]
    with organization_scope(world.org_a):
        period_close.period_reopen(
            close=PeriodClose.objects.get(pk=close["id"]), reason="Baseline corrected", by=world.admin_a
        )
    scores_recompute_full(organization=world.org_a)
    assert scores(world)["kpi"][("month", OCT)] == Decimal("0.6667")


def test_a_quarter_is_frozen_once_all_its_months_are_closed(world, otd, exec_a):
    with organization_scope(world.org_a):
        for month in (date(2026, 7, 1), date(2026, 8, 1), SEP):
            period_close.period_close(unit=world.company_a, month=month, by=exec_a)
        services.kpi_update(kpi=otd, baseline=Decimal(70))
    before_q3 = scores(world)["kpi"][("quarter", date(2026, 7, 1))]
    scores_recompute_full(organization=world.org_a)
    after = scores(world)
    assert after["kpi"][("quarter", date(2026, 7, 1))] == before_q3
    assert after["kpi"][("month", OCT)] == Decimal("0.6667")  # October stays open


def test_the_pages_show_a_closed_month_read_only_with_who_closed_it(world, otd, exec_a):
    close_october(exec_a, world.division_a)
    client = page_client(world.admin_a)
    entry = html.unescape(client.get(reverse("data_entry", args=["acme"]) + "?period=2026-10").content.decode())
    assert "Closed by Eve Exec on 18 Nov 2026" in entry
    assert f'formaction="{reverse("data_entry_row_save", args=["acme", otd.pk])}"' not in entry  # no Save
    open_month = client.get(reverse("data_entry", args=["acme"]) + "?period=2026-09").content.decode()
    assert "closed-badge" not in open_month
    kpi_page = html.unescape(client.get(reverse("kpi_detail", args=["acme", otd.pk])).content.decode())
    assert "Closed: closed by Eve Exec on 18 Nov 2026" in kpi_page
    target = Target.objects.for_organization(world.org_a).get(kpi=otd, period=OCT)
    assert reverse("target_recalibrate", args=["acme", otd.pk, target.pk]) not in kpi_page
    card = html.unescape(
        client.get(
            reverse("scorecard_detail", args=["acme", world.department_a.pk]) + "?period=2026-10"
        ).content.decode()
    )
    assert "Oct 2026 is closed for Operations (closed by Eve Exec on 18 Nov 2026)" in card


def test_the_close_page_shows_the_checklist_closes_and_reopens(world, otd, exec_a):
    url = reverse("period_close", args=["acme", world.company_a.pk])
    client = page_client(exec_a)
    shown = html.unescape(client.get(url + "?period=2026-10").content.decode())
    assert "Oct 2026 is open for Acme Manufacturing." in shown
    assert "1 KPI value due: 0 without a value, 1 red without a cause." in shown  # October's 90 scores 0.5
    response = client.post(url, {"period": "2026-10"})
    assert response.status_code == 302
    shown = html.unescape(client.get(response.url).content.decode())
    assert "Oct 2026 is closed for Acme Manufacturing: closed by Eve Exec on 18 Nov 2026." in shown
    assert "Reopen" not in shown  # executives close; admins reopen
    close = PeriodClose.objects.for_organization(world.org_a).get()
    admin = page_client(world.admin_a)
    reopened = admin.post(
        reverse("period_reopen", args=["acme", close.pk]), {"reason": "Late invoice", "unit": world.company_a.pk}
    )
    assert reopened.status_code == 302
    shown = html.unescape(admin.get(reopened.url).content.decode())
    assert "reopened by Admin of acme on 18 Nov 2026: “Late invoice”" in shown


# --- A save and a close at the same moment -----------------------------------------------------------------------


def _race(first, second, statement_part: str) -> dict:
    """Run `first` in a transaction held open until `second` (started once `first` has done its work) is seen waiting
    for one of its locks, then commit it; each in its own thread and database connection. Returns what each
    returned or raised, and whether the second waited."""
    import threading

    from django.db import connection, transaction

    from tests.conftest import wait_for, waiting_for_a_lock

    done, outcome = threading.Event(), {}

    def run(name, work, hold):
        try:
            with transaction.atomic():
                outcome[name] = work()
                if hold:
                    done.set()
                    outcome["waited"] = wait_for(
                        lambda: waiting_for_a_lock(statement_part), timeout=20, message="the second to wait"
                    )
        except ValidationError as error:
            outcome[name] = error
        finally:
            done.set()
            connection.close()

    threads = [threading.Thread(target=run, args=("first", first, True))]
    threads.append(threading.Thread(target=lambda: done.wait(20) and run("second", second, False)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


def test_a_save_under_way_when_the_month_closes_commits_and_the_close_follows(world, otd, exec_a, transactional_db):
    """The save holds a shared lock on its unit and the units above it; the close waits for it, so the value is
    in before the month is locked, and nothing slips in after."""

    def save():
        with organization_scope(world.org_a):
            return services.measurement_record(
                kpi=otd, period=OCT, value=Decimal(91), by=world.admin_a, expected_version=1, schedule=False
            )

    def close():
        with organization_scope(world.org_a):
            return period_close.period_close(unit=world.division_a, month=OCT, by=exec_a)

    outcome = _race(save, close, "bsc_orgunit")
    assert outcome["waited"]
    assert isinstance(outcome["first"], Measurement) and isinstance(outcome["second"], PeriodClose)
    assert values(world)[("OTD", OCT)] == (Decimal(91), 2)


def test_a_save_that_waited_for_a_close_is_refused_with_who_closed_it(world, otd, exec_a, transactional_db):
    """The close locks its unit first; a save below it waits, then sees the close and is refused: nothing written."""

    def close():
        with organization_scope(world.org_a):
            return period_close.period_close(unit=world.division_a, month=OCT, by=exec_a)

    def save():
        with organization_scope(world.org_a):
            return services.measurement_record(
                kpi=otd, period=OCT, value=Decimal(91), by=world.admin_a, expected_version=1, schedule=False
            )

    outcome = _race(close, save, "bsc_orgunit")
    assert outcome["waited"]
    assert isinstance(outcome["first"], PeriodClose)
    assert isinstance(outcome["second"], ValidationError)
    assert outcome["second"].messages == [CLOSED]
    assert values(world) == BEFORE

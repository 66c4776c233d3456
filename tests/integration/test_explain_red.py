"""Explain the red (issue 17): a red value asks for its cause and an action item the same way on the data-entry page,
in the bulk API and (the cause) in imports, one rule deciding (kpis/causes.py); the action item is created or linked
through kpis' hooks in the value's transaction; red KPIs without an open action item show on the next coaching
session's agenda and on the dashboard."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import red_actions
from coaching import services as coaching_services
from coaching.models import ActionItem
from kpis import services
from kpis.causes import ActionPlan
from kpis.models import ImportBatch, Measurement
from kpis.recompute import scores_recompute
from tests import factories


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    """The module's months, due dates and "closed on" dates are written for 18 Nov 2026: it travels there itself
    (before the world is built), whatever instant `make test-dates` pins the suite to."""
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


OCT = date(2026, 10, 1)  # the month due on the pinned day
API = "/api/v1/o/acme/"
CAUSE = "Give the cause of the red value."
ACTION = "Name an action item for the red value (owner and due date) or link an open one."


class Red:
    """Acme's KPIs for October: OTD of Operations (baseline 80, target 100: 81 is red, 93 amber) and SCR of Assembly
    below it (decrease from 10 to 5: 9 is red, 6.5 amber); Hugo heads Operations, Sam heads Sales, a unit beside it."""

    def __init__(self, world):
        self.world = world
        self.head = factories.hugo_head(world)
        sales = factories.make_unit(world.org_a, "Sales", parent=world.company_a)
        self.sales_head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[sales]).user
        with organization_scope(world.org_a):
            self.otd = services.kpi_create(
                unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80)
            )
            self.scr = services.kpi_create(
                unit=world.department_a, name="Scrap rate", code="SCR", baseline=Decimal(10), direction="decrease"
            )
            services.target_create(kpi=self.otd, period=OCT, value=Decimal(100))
            services.target_create(kpi=self.scr, period=OCT, value=Decimal(5))
        self.kpis = {"OTD": self.otd, "SCR": self.scr}


@pytest.fixture
def red(world):
    return Red(world)


def stored(world) -> dict:
    with organization_scope(world.org_a):
        values = {m.kpi.code: (m.value, m.comment) for m in Measurement.objects.select_related("kpi")}
        items = sorted((i.kpi.code if i.kpi else None, i.title) for i in ActionItem.objects.select_related("kpi"))
    return {"values": values, "items": items}


# --- The three paths ---------------------------------------------------------------------------------------


def page_save(red, items: list[dict], user=None) -> tuple[int, dict[str, list[str]]]:
    """'Save all' on the data-entry page: each item is {code, value, comment, owner, due, title, link}."""
    client = Client()
    client.force_login(user or red.head)
    data = {"period": "2026-10", "decimal_separator": ".", "kpi": [red.kpis[i["code"]].pk for i in items]}
    for item in items:
        pk = red.kpis[item["code"]].pk
        data |= {
            f"value-{pk}": item["value"], f"comment-{pk}": item.get("comment", ""), f"version-{pk}": "",
            f"action_owner-{pk}": item.get("owner", ""), f"action_due-{pk}": item.get("due", ""),
            f"action_title-{pk}": item.get("title", ""), f"action_item-{pk}": item.get("link", ""),
        }  # fmt: skip
    response = client.post(f"{reverse('data_entry', args=['acme'])}?period=2026-10", data)
    if response.status_code == 302:
        return 302, {}
    return response.status_code, {row.kpi.code: row.errors for row in response.context["page"].rows if row.errors}


def bulk_save(red, items: list[dict], user=None) -> tuple[int, dict[str, list[str]]]:
    """The bulk API with the same items."""
    client = APIClient()
    client.force_login(user or red.head)
    names = {"owner": "action_owner", "due": "action_due_date", "title": "action_title", "link": "action_item"}
    body = [
        {"kpi": i["code"], "period": "2026-10", "value": i["value"], "comment": i.get("comment", "")}
        | {names[k]: v for k, v in i.items() if k in names and v != ""}
        for i in items
    ]
    response = client.post(f"{API}measurements/bulk/", body, format="json")
    if response.status_code == 200:
        return 200, {}
    return response.status_code, {
        items[e["index"]]["code"]: [m for messages in e["errors"].values() for m in messages] for e in response.json()
    }


def import_preview(red, rows: list[tuple[str, str, str]]) -> tuple[ImportBatch, Client]:
    """Upload a CSV of (code, value, comment) rows for October; the preview's batch."""
    client = Client()
    client.force_login(red.head)
    content = "kpi code,period,value,comment\n" + "".join(f"{c},2026-10,{v},{m}\n" for c, v, m in rows)
    file = SimpleUploadedFile("values.csv", content.encode())
    response = client.post(reverse("kpi_import", args=["acme"]), {"file": file, "decimal_separator": "."})
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportBatch.objects.for_organization(red.world.org_a).latest("id"), client


def uncaused_codes(client, batch) -> list[str]:
    """The codes the preview lists as red values without a cause."""
    response = client.get(reverse("kpi_import_batch", args=["acme", batch.pk]))
    return [u.code for u in response.context.get("uncaused", [])]


def valid_action(red) -> dict:
    return {"owner": red.head.pk, "due": "2026-12-01"}


# --- Bad input: the same refusal on the page and in the bulk API, nothing changed ------------------------------


def bad_inputs(red):
    world = red.world
    return {
        "a cause longer than the limit": (
            {"comment": "x" * 2001} | valid_action(red),
            ["Keep the comment under 2000 characters."],
        ),
        "no cause": ({"comment": ""} | valid_action(red), [CAUSE]),
        "no action item": ({"comment": "Supplier strike"}, [ACTION]),
        "an owner from another organization": (
            {"comment": "Supplier strike", "owner": world.member_b.pk, "due": "2026-12-01"},
            [f"No member of this organization has the id {world.member_b.pk}; choose the owner among its members."],
        ),
        "an owner outside the unit": (
            {"comment": "Supplier strike", "owner": red.sales_head.pk, "due": "2026-12-01"},
            [
                f"{red.sales_head.display_name} is not a member of Operations; choose an owner from Operations or an "
                "organization-wide role."
            ],
        ),  # fmt: skip
        "a viewer as owner": (
            {"comment": "Supplier strike", "owner": world.viewer_a.pk, "due": "2026-12-01"},
            [
                f"{world.viewer_a.display_name} is a viewer here and cannot own an action item; choose a member who may "
                "mark it done."
            ],
        ),  # fmt: skip
        "a due date in the past": (
            {"comment": "Supplier strike", "owner": red.head.pk, "due": "2026-11-17"},
            ["The due date 17 Nov 2026 is before today (18 Nov 2026); choose today or later."],
        ),
        "an unparsable due date": (
            {"comment": "Supplier strike", "owner": red.head.pk, "due": "next week"},
            ["The action item's due date “next week” is not a date; write it as YYYY-MM-DD."],
        ),
        "an action item of another KPI": (
            {"comment": "Supplier strike", "link": "OTHER"},
            ["Action item {other} is not an open action item of OTD or its unit; link an open one or name a new one."],
        ),
    }


CASES = [
    "a cause longer than the limit", "no cause", "no action item", "an owner from another organization",
    "an owner outside the unit", "a viewer as owner", "a due date in the past", "an unparsable due date",
    "an action item of another KPI",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_alike_on_the_page_and_in_the_bulk_api_and_nothing_changes(world, red, case):
    fields, expected = bad_inputs(red)[case]
    if fields.get("link") == "OTHER":
        other = coaching_services.action_item_create(
            organization=world.org_a, title="Fix scrap", owner=red.head, due_date=date(2026, 12, 1),
            created_by=world.admin_a, kpi=red.scr,
        )  # fmt: skip
        fields = fields | {"link": other.pk}
        expected = [m.format(other=other.pk) for m in expected]
    before = stored(world)
    item = {"code": "OTD", "value": "81"} | fields

    assert page_save(red, [item]) == (200, {"OTD": expected})
    assert bulk_save(red, [item]) == (400, {"OTD": expected})
    assert stored(world) == before


def test_a_refused_row_keeps_the_others_and_their_action_items_unwritten(world, red):
    good = {"code": "SCR", "value": "9", "comment": "Old press"} | valid_action(red)
    bad = {"code": "OTD", "value": "81", "comment": ""} | valid_action(red)
    before = stored(world)
    assert page_save(red, [good, bad]) == (200, {"OTD": [CAUSE]})
    assert bulk_save(red, [good, bad]) == (400, {"OTD": [CAUSE]})
    assert stored(world) == before


def test_a_red_value_with_its_cause_and_action_item_is_saved_with_a_new_item_in_each_path(world, red):
    items = [{"code": "OTD", "value": "81", "comment": "Supplier strike", "title": "Second supplier"}
             | valid_action(red)]  # fmt: skip
    assert page_save(red, items) == (302, {})
    assert stored(world) == {
        "values": {"OTD": (Decimal(81), "Supplier strike")},
        "items": [("OTD", "Second supplier")],
    }
    item = ActionItem.objects.for_organization(world.org_a).get()
    assert (item.owner, item.due_date, item.unit, item.status, item.created_by) == (
        red.head,
        date(2026, 12, 1),
        world.division_a,
        "open",
        red.head,
    )

    api_items = [{"code": "SCR", "value": "9", "comment": "Old press"} | valid_action(red)]
    assert bulk_save(red, api_items) == (200, {})
    assert stored(world)["items"] == [("OTD", "Second supplier"), ("SCR", "Bring SCR Scrap rate back on target")]


def test_a_red_value_may_link_an_open_action_item_of_its_kpi_or_unit_instead(world, red):
    unit_item = coaching_services.action_item_create(
        organization=world.org_a, title="Review suppliers", owner=red.head, due_date=date(2026, 12, 1),
        created_by=world.admin_a, unit=world.division_a,
    )  # fmt: skip
    item = {"code": "OTD", "value": "81", "comment": "Supplier strike", "link": unit_item.pk}
    assert bulk_save(red, [item]) == (200, {})
    unit_item.refresh_from_db()
    assert unit_item.kpi == red.otd  # linked: the red KPI now has an open item
    assert stored(world)["items"] == [("OTD", "Review suppliers")]  # no new item

    # The page offers the KPI's open items and the members who may own its item: not Sam (Sales), nor the viewer.
    client = Client()
    client.force_login(red.head)
    response = client.get(reverse("data_entry_status", args=["acme", red.otd.pk]), {
        "period": "2026-10", f"value-{red.otd.pk}": "82", f"comment-{red.otd.pk}": ""})  # fmt: skip
    row = response.context["row"]
    assert [i.title for i in row.open_items] == ["Review suppliers"]
    names = {u.display_name for u in row.owners}
    assert red.head.display_name in names and world.admin_a.display_name in names
    assert red.sales_head.display_name not in names and world.viewer_a.display_name not in names
    assert row.default_owner_id == red.head.pk and row.default_due == date(2026, 12, 18)
    shown = html.unescape(response.content.decode())
    assert f'<div id="action-{red.otd.pk}" class="red-action" hx-swap-oob="true">' in shown
    assert "Review suppliers · Hugo Head · due 1 Dec 2026" in shown
    # Once the page shows the fields for a red value, a preview leaves them alone (the person may be typing there).
    again = client.get(reverse("data_entry_status", args=["acme", red.otd.pk]), {
        "period": "2026-10", f"value-{red.otd.pk}": "83", f"action_shown-{red.otd.pk}": "red"})  # fmt: skip
    assert f'id="action-{red.otd.pk}"' not in again.content.decode()
    green = client.get(reverse("data_entry_status", args=["acme", red.otd.pk]), {
        "period": "2026-10", f"value-{red.otd.pk}": "99", f"action_shown-{red.otd.pk}": "red"})  # fmt: skip
    assert f'<div id="action-{red.otd.pk}" class="red-action" hx-swap-oob="true"></div>' in green.content.decode()


def test_a_refused_action_item_leaves_no_measurement(world, red, monkeypatch):
    """The hook runs in the value's transaction: the item refused while it is created (after the value was written)
    takes the value back with it."""

    def refuse(**kwargs):
        raise ValidationError({"owner": ["Hugo Head left the company meanwhile."]})

    monkeypatch.setattr(red_actions.services, "action_item_create", refuse)
    item = {"code": "OTD", "value": "81", "comment": "Supplier strike"} | valid_action(red)
    assert bulk_save(red, [item]) == (400, {"OTD": ["Hugo Head left the company meanwhile."]})
    assert page_save(red, [item]) == (200, {"OTD": ["Hugo Head left the company meanwhile."]})
    with organization_scope(world.org_a), pytest.raises(services.MeasurementsRefused) as refusal:
        services.measurements_record(
            items=[services.MeasurementInput(kpi=red.otd, period=OCT, value=Decimal(81), comment="Strike",
                                             action=ActionPlan(owner_id=red.head.pk, due_date=date(2026, 12, 1)))],
            by=red.head, organization=world.org_a,
        )  # fmt: skip
    assert refusal.value.item_errors == {0: {"action_owner": ["Hugo Head left the company meanwhile."]}}
    assert stored(world) == {"values": {}, "items": []}


def test_an_unchanged_red_value_asks_nothing_again_and_a_changed_comment_keeps_a_cause(world, red):
    item = {"code": "OTD", "value": "81", "comment": "Supplier strike"} | valid_action(red)
    assert bulk_save(red, [item]) == (200, {})
    client = APIClient()
    client.force_login(red.head)
    measurement = Measurement.objects.for_organization(world.org_a).get(kpi=red.otd)
    same = client.patch(f"{API}measurements/{measurement.pk}/", {"value": "81", "version": 1}, format="json")
    assert same.status_code == 200 and same.json()["version"] == 1  # nothing written, no second item
    cleared = client.patch(
        f"{API}measurements/{measurement.pk}/", {"value": "81", "comment": "", "version": 1}, format="json"
    )
    assert (cleared.status_code, cleared.json()) == (400, {"comment": [CAUSE]})
    other = client.patch(
        f"{API}measurements/{measurement.pk}/", {"value": "82", "comment": "Still striking", "version": 1},
        format="json",
    )  # fmt: skip
    assert (other.status_code, other.json()) == (400, {"action_item": [ACTION]})  # a changed value: a new action
    assert len(stored(world)["items"]) == 1


# --- One rule: the page, the bulk API and the import ask for the same causes ----------------------------------------


@pytest.mark.parametrize("amber_too", [False, True])
def test_the_page_the_bulk_api_and_the_import_ask_for_the_same_causes(world, red, amber_too):
    world.org_a.amber_requires_cause = amber_too
    world.org_a.save()
    values = [("OTD", "93"), ("SCR", "9")]  # amber, red
    asked = {"SCR": [CAUSE]} | ({"OTD": ["Give the cause of the amber value."]} if amber_too else {})
    items = [{"code": code, "value": value} | valid_action(red) for code, value in values]

    assert page_save(red, items) == ((200, asked))
    assert bulk_save(red, items) == ((400, asked))
    batch, client = import_preview(red, [(code, value, "") for code, value in values])
    assert sorted(uncaused_codes(client, batch)) == sorted(asked)
    assert stored(world)["values"] == {}


def test_an_import_takes_causes_in_the_preview_or_an_explicit_cause_missing(world, red):
    batch, client = import_preview(red, [("OTD", "81", ""), ("SCR", "9", "")])
    response = client.get(reverse("kpi_import_batch", args=["acme", batch.pk]))
    page = " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())
    assert "Red values without a cause 2" in page
    assert 'name="cause_missing"' in response.content.decode()

    confirm = reverse("kpi_import_confirm", args=["acme", batch.pk])
    refused = client.post(confirm, {f"cause-{u.index}": "" for u in response.context["uncaused"]}, follow=True)
    assert (
        "2 red values lack a cause (OTD 2026-10, SCR 2026-10): give the causes, or choose to import them as “cause "
        "missing”. Nothing was imported."
    ) in html.unescape(refused.content.decode())
    assert stored(world)["values"] == {}

    too_long = client.post(confirm, {"cause-0": "x" * 2001}, follow=True)
    assert "OTD 2026-10: Keep the comment under 2000 characters. Nothing was imported." in html.unescape(
        too_long.content.decode()
    )
    client.post(confirm, {"cause-0": "Supplier strike", "cause_missing": "on"})
    batch.refresh_from_db()
    assert batch.status == "done"
    assert stored(world) == {
        "values": {"OTD": (Decimal(81), "Supplier strike"), "SCR": (Decimal(9), "")},  # SCR: cause missing
        "items": [],  # an import names no action item: both wait on the dashboard and the agenda
    }


def test_an_import_row_with_a_too_long_comment_is_refused_as_on_the_page(world, red):
    batch, client = import_preview(red, [("OTD", "81", "x" * 2001)])
    assert batch.problems[0]["messages"] == ["Keep the comment under 2000 characters."]
    assert page_save(red, [{"code": "OTD", "value": "81", "comment": "x" * 2001} | valid_action(red)]) == (
        200, {"OTD": ["Keep the comment under 2000 characters."]}
    )  # fmt: skip


# --- Red KPIs without an open action item: the agenda of the next session and the dashboard -------------------


def test_red_kpis_without_an_open_action_item_show_on_the_next_sessions_agenda_and_the_dashboard(world, red):
    with organization_scope(world.org_a):
        for kpi, value, comment in ((red.otd, 81, "Supplier strike"), (red.scr, 9, "")):
            services.measurement_record(kpi=kpi, period=OCT, value=Decimal(value), comment=comment, by=world.admin_a)
        scores_recompute(organization=world.org_a, months={OCT}, unit_ids={world.division_a.pk, world.department_a.pk})
    coaching_services.action_item_create(
        organization=world.org_a, title="Second supplier", owner=red.head, due_date=date(2026, 12, 1),
        created_by=world.admin_a, kpi=red.otd,
    )  # fmt: skip
    coach = factories.carla_coach(world)
    session = coaching_services.session_schedule(
        unit=world.division_a, coach=coach, kind="monthly_review",
        scheduled_at=timezone.make_aware(datetime(2026, 11, 25, 9)),
    )  # fmt: skip

    client = Client()
    client.force_login(coach)
    agenda = client.get(reverse("coaching_session", args=["acme", session.pk]))
    assert [(r.kpi.code, r.cause, r.has_action) for r in agenda.context["red_kpis"]] == [
        ("SCR", "", False),  # without an open action item first
        ("OTD", "Supplier strike", True),
    ]
    shown = " ".join(re.sub(r"<[^>]+>", " ", html.unescape(agenda.content.decode())).split())
    assert "Red KPIs of October 2026 SCR Scrap rate · Assembly no open action item Cause missing" in shown

    client.force_login(world.admin_a)
    board = client.get(reverse("dashboard_unit", args=["acme", world.division_a.pk]), {"kind": "month",
                                                                                       "period": "2026-10"})  # fmt: skip
    assert [(r["kpi"].code, r["cause"]) for r in board.context["red_kpis"]] == [("SCR", "")]
    assert board.context["red_kpis_total"] == 1

    # Once OTD's action item is done, OTD is back on the agenda, worst first (5% against SCR's 20%).
    item = ActionItem.objects.for_organization(world.org_a).get(kpi=red.otd)
    coaching_services.action_item_set_status(item=item, status="done")
    agenda = client.get(reverse("coaching_session", args=["acme", session.pk]))
    assert [(r.kpi.code, r.has_action) for r in agenda.context["red_kpis"]] == [("OTD", False), ("SCR", False)]
    coaching_services.session_hold(session=session, confirm_early=True)
    agenda = client.get(reverse("coaching_session", args=["acme", session.pk]))
    assert agenda.context["red_kpis"] == []  # a held session keeps its snapshot instead

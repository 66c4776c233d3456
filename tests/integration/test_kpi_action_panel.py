"""The KPI page's "Action items" panel (coaching/views_kpi_actions.py, embedded through bsc.events.item_panels): it
lists the KPI's open action items, lets those who may write the unit's items add one (owner among the members who may
own an item of the unit, due in two weeks to begin with), refuses bad input on its field with nothing saved, answers
404 for another organization's KPI and 403 to a role that may not write, and its query count does not grow with the
number of items."""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bsc import org_calendar
from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import services as coaching
from coaching.models import ActionItem
from kpis import services as kpis
from tests import factories

pytestmark = pytest.mark.dates
HTMX = {"HX-Request": "true"}


@pytest.fixture
def hugo(world):
    return factories.hugo_head(world)  # head of Operations, and so of Assembly below it


@pytest.fixture
def kpi(world, hugo):
    with organization_scope(world.org_a):
        return kpis.kpi_create(unit=world.department_a, name="Scrap rate", code="SCR", baseline=Decimal(10), owner=hugo)


@pytest.fixture
def executive(world):
    return factories.add_member(world.org_a, Role.EXECUTIVE).user


def _url(kpi, org="acme") -> str:
    return f"/o/{org}/coaching/actions/kpi/{kpi.pk}/"


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _item(world, kpi, title, *, owner, due_in=7, **links) -> ActionItem:
    return coaching.action_item_create(
        organization=world.org_a, title=title, owner=owner, created_by=world.admin_a, unit=kpi.unit, kpi=kpi,
        due_date=org_calendar.today(world.org_a) + timedelta(days=due_in), **links,
    )  # fmt: skip


def _good(world, owner, **changes) -> dict:
    data = {"title": "Recalibrate the press", "owner": owner.pk,
            "due_date": f"{org_calendar.today(world.org_a) + timedelta(days=10):%Y-%m-%d}"}  # fmt: skip
    return data | changes


# --- The panel on the KPI page --------------------------------------------------------------------------------


def test_the_kpi_page_loads_the_action_items_panel_before_the_comments(world, kpi, client):
    client.force_login(world.admin_a)
    page = client.get(f"/o/acme/kpis/{kpi.pk}/").content.decode()
    panel = page.index(f'hx-get="{_url(kpi)}"')
    assert panel < page.index(f'hx-get="/o/acme/comments/kpi/{kpi.pk}/"')


def test_the_panel_lists_the_kpis_open_items_with_owner_due_date_session_and_overdue_flag(
    world, kpi, client, hugo, executive
):
    coach = factories.carla_coach(world)
    with organization_scope(world.org_a):
        session = coaching.session_schedule(
            unit=world.department_a, coach=coach, kind="monthly_review",
            scheduled_at=timezone.now() + timedelta(days=2),
        )  # fmt: skip
        first = _item(world, kpi, "Recalibrate the press", owner=hugo, due_in=3, session=session)
        late = _item(world, kpi, "Train the night shift", owner=coach, due_in=0)
        ActionItem.objects.filter(pk=late.pk).update(due_date=org_calendar.today(world.org_a) - timedelta(days=2))
        done = _item(world, kpi, "Clean the die", owner=hugo)
        coaching.action_item_set_status(item=done, status="done")
        other = kpis.kpi_create(unit=world.department_a, name="Yield", code="YLD", baseline=Decimal(0))
        _item(world, other, "Another KPI's item", owner=hugo)
    client.force_login(executive)
    response = client.get(_url(kpi), headers=HTMX)
    assert response.status_code == 200
    text = _text(response)
    assert "(2 open)" in text
    assert text.index("Train the night shift") < text.index("Recalibrate the press")  # by due date
    assert "Clean the die" not in text and "Another KPI's item" not in text
    late_day = org_calendar.today(world.org_a) - timedelta(days=2)
    assert f"Train the night shift</strong> · Carla Coach · due {late_day:%-d %b %Y}" in text
    assert text.count("Overdue</span>") == 1
    held = timezone.localtime(session.scheduled_at, org_calendar.zone(world.org_a))
    assert f'<a href="/o/acme/coaching/sessions/{session.pk}/">monthly review of {held:%-d %b %Y}</a>' in text
    assert f"/o/acme/coaching/actions/{first.pk}/edit/?next=/o/acme/kpis/{kpi.pk}/%23actions" in text
    assert 'id="actions"' in text and "<h3>Add an action item</h3>" in text


def test_with_no_open_item_the_panel_says_so_and_offers_the_form_with_its_defaults(world, kpi, client, hugo, executive):
    sales_head = factories.add_member(
        world.org_a, Role.DEPARTMENT_HEAD, units=[factories.make_unit(world.org_a, "Sales", parent=world.company_a)]
    ).user
    client.force_login(executive)
    text = _text(client.get(_url(kpi), headers=HTMX))
    assert "No open action item." in text
    due = org_calendar.today(world.org_a) + timedelta(days=14)
    assert f'name="due_date" value="{due:%Y-%m-%d}"' in text
    assert f'<option value="{hugo.pk}" selected>' in text  # the KPI's owner, who may own the unit's items
    assert f'<option value="{executive.pk}">' in text
    assert f'value="{sales_head.pk}"' not in text  # a head of another unit may not own Assembly's items
    assert f'value="{world.viewer_a.pk}"' not in text


# --- Adding an item -------------------------------------------------------------------------------------------


def test_an_executive_adds_an_action_item_and_the_panel_lists_it(world, kpi, client, hugo, executive):
    client.force_login(executive)
    response = client.post(_url(kpi), _good(world, hugo), headers=HTMX)
    assert response.status_code == 200
    item = ActionItem.objects.for_organization(world.org_a).get()
    due = org_calendar.today(world.org_a) + timedelta(days=10)
    assert (item.title, item.owner, item.kpi, item.unit, item.created_by, item.due_date, item.status) == (
        "Recalibrate the press", hugo, kpi, world.department_a, executive, due, "open",
    )  # fmt: skip
    text = _text(response)
    assert f"Action item added: “Recalibrate the press”, owned by Hugo Head, due {due:%-d %b %Y}." in text
    assert "(1 open)" in text and "No open action item." not in text
    assert 'name="title" maxlength="200"' in text and "Recalibrate the press</strong>" in text  # the form is fresh
    assert 'value="Recalibrate the press"' not in text


def test_without_htmx_the_item_is_added_and_the_panels_page_says_so(world, kpi, client, hugo):
    client.force_login(world.admin_a)
    response = client.post(_url(kpi), _good(world, hugo), follow=True)
    assert response.redirect_chain == [(_url(kpi), 302)]
    assert "Action item added: “Recalibrate the press”" in _text(response)
    assert "<h1>Action items of KPI SCR · Scrap rate</h1>" in _text(response)


@pytest.mark.parametrize("head_of", ["division", "department"])
def test_a_department_head_of_the_kpis_unit_adds_one(world, kpi, client, head_of):
    unit = world.division_a if head_of == "division" else world.department_a
    head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[unit]).user
    client.force_login(head)
    assert "<h3>Add an action item</h3>" in _text(client.get(_url(kpi), headers=HTMX))
    assert client.post(_url(kpi), _good(world, head), headers=HTMX).status_code == 200
    assert ActionItem.objects.for_organization(world.org_a).get().owner == head


def test_a_coach_adds_one(world, kpi, client):
    coach = factories.carla_coach(world)
    client.force_login(coach)
    client.post(_url(kpi), _good(world, coach), headers=HTMX)
    assert ActionItem.objects.for_organization(world.org_a).get().owner == coach


# --- Bad input --------------------------------------------------------------------------------------------------


def _refused(world, client, kpi, data, field):
    response = client.post(_url(kpi), data, headers=HTMX)
    assert response.status_code == 200  # htmx swaps the form back with its messages
    assert not ActionItem.objects.for_organization(world.org_a).exists()
    text = _text(response)
    errors = [line for line in text.splitlines() if f'id="kpi-action-{field}_error"' in line]
    assert len(errors) == 1, text
    return errors[0]


def test_an_empty_title_is_refused_on_its_field(world, kpi, client, hugo):
    client.force_login(world.admin_a)
    assert "Give the action item a title." in _refused(world, client, kpi, _good(world, hugo, title="  "), "title")


def test_a_past_due_date_is_refused_on_its_field(world, kpi, client, hugo):
    client.force_login(world.admin_a)
    today = org_calendar.today(world.org_a)
    yesterday = today - timedelta(days=1)
    error = _refused(world, client, kpi, _good(world, hugo, due_date=f"{yesterday:%Y-%m-%d}"), "due_date")
    assert f"The due date {yesterday:%d %b %Y} is before today ({today:%d %b %Y}); choose today or later." in error


def test_an_owner_of_another_organization_is_refused_on_its_field(world, kpi, client):
    client.force_login(world.admin_a)
    error = _refused(world, client, kpi, _good(world, world.member_b), "owner")
    assert "Choose an owner from the list: a member who may mark the item done." in error


def test_a_viewer_as_owner_is_refused_on_its_field(world, kpi, client):
    client.force_login(world.admin_a)
    error = _refused(world, client, kpi, _good(world, world.viewer_a), "owner")
    name = world.viewer_a.display_name
    assert f"{name} is a viewer here and cannot own an action item; choose a member who may mark it done." in error


def test_a_head_of_another_unit_as_owner_is_refused_on_its_field(world, kpi, client):
    sales = factories.make_unit(world.org_a, "Sales", parent=world.company_a)
    sales_head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[sales]).user
    client.force_login(world.admin_a)
    error = _refused(world, client, kpi, _good(world, sales_head), "owner")
    name = sales_head.display_name
    assert f"{name} is not a member of Assembly; choose an owner from Assembly or an organization-wide role." in error


# --- Roles and tenancy ------------------------------------------------------------------------------------------


def test_a_viewer_gets_no_form_sees_no_item_and_may_not_post(world, kpi, client, hugo):
    with organization_scope(world.org_a):
        _item(world, kpi, "Recalibrate the press", owner=hugo)
    client.force_login(world.viewer_a)
    response = client.get(_url(kpi), headers=HTMX)
    assert response.status_code == 200
    text = _text(response)
    assert "Your role does not read action items." in text  # bsc.permissions: viewers read no action items
    assert "Recalibrate the press" not in text and "<form" not in text
    assert client.post(_url(kpi), _good(world, hugo, title="Viewer's item"), headers=HTMX).status_code == 403
    assert not ActionItem.objects.for_organization(world.org_a).filter(title="Viewer's item").exists()


def test_a_head_of_another_unit_gets_no_form_and_may_not_post(world, kpi, client, hugo):
    sales = factories.make_unit(world.org_a, "Sales", parent=world.company_a)
    sales_head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[sales]).user
    with organization_scope(world.org_a):
        _item(world, kpi, "Recalibrate the press", owner=hugo)
        _item(world, kpi, "Ask Sales for forecasts", owner=sales_head)
    client.force_login(sales_head)
    text = _text(client.get(_url(kpi), headers=HTMX))
    assert "<form" not in text
    assert "Ask Sales for forecasts" in text and "Recalibrate the press" not in text  # their own items only
    assert "Only the items you own are listed" in text
    assert client.post(_url(kpi), _good(world, sales_head), headers=HTMX).status_code == 403
    assert ActionItem.objects.for_organization(world.org_a).count() == 2


def test_another_organizations_kpi_is_a_404(world, kpi, client, hugo):
    with organization_scope(world.org_b):
        foreign = kpis.kpi_create(unit=world.unit_b, name="Globex scrap", code="GSC", baseline=Decimal(0))
    client.force_login(world.admin_a)
    assert client.get(_url(foreign), headers=HTMX).status_code == 404
    assert client.post(_url(foreign), _good(world, hugo), headers=HTMX).status_code == 404
    assert client.get(_url(foreign, org="globex"), headers=HTMX).status_code == 404  # not a member there
    with organization_scope(world.org_b):
        assert not ActionItem.objects.for_organization(world.org_b).exists()
    assert not ActionItem.objects.for_organization(world.org_a).exists()


# --- Opening the page at the panel, and its cost ------------------------------------------------------------------


def test_a_page_opened_at_the_panel_scrolls_to_it_once_it_arrives(world, kpi, client):
    client.force_login(world.admin_a)
    page = f"http://testserver/o/acme/kpis/{kpi.pk}/"
    at_panel = client.get(_url(kpi), headers=HTMX | {"HX-Current-URL": page + "#actions"})
    assert at_panel["HX-Reswap"] == "outerHTML show:#actions:top"
    assert "HX-Reswap" not in client.get(_url(kpi), headers=HTMX | {"HX-Current-URL": page})


def test_the_panels_query_count_does_not_grow_with_its_items(world, kpi, client, hugo, executive):
    coach = factories.carla_coach(world)
    client.force_login(executive)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(kpi), headers=HTMX).status_code == 200
        return len(queries)

    with organization_scope(world.org_a):
        session = coaching.session_schedule(
            unit=world.department_a, coach=coach, kind="check_in", scheduled_at=timezone.now() + timedelta(days=2)
        )
        _item(world, kpi, "First", owner=hugo, session=session)
    one = count()
    with organization_scope(world.org_a):
        for n in range(6):
            _item(world, kpi, f"Item {n}", owner=coach if n % 2 else hugo, session=session if n % 3 else None)
    assert count() == one

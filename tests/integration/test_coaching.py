"""Coaching sessions and action items: the services' invariants, the pages, and who may do what.

Every mutating endpoint gets the trio: it works; another organization's object gives 404; a role without
permission gets 403 and nothing changes.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import services
from coaching.models import ActionItem, ActionItemStatus, CoachingSession, SessionKpiSnapshot, SessionStatus
from kpis import services as kpi_services
from kpis.data_entry import due_month
from kpis.recompute import scores_recompute
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

NASTY_NOTES = (
    "Good **progress** on scrap.\n\n<script>alert('x')</script>\n\n"
    "[details](javascript:alert(1)) and [report](https://example.com/r)"
)
CLEAN_NOTES = (
    "<p>Good <strong>progress</strong> on scrap.</p>\n\n\n"
    '<p>details and <a href="https://example.com/r" rel="noopener noreferrer">report</a></p>'
)


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def sessions_of(org):
    return CoachingSession.objects.for_organization(org)


def items_of(org):
    return ActionItem.objects.for_organization(org)


@pytest.fixture
def coach(world):
    return factories.carla_coach(world)


@pytest.fixture
def head(world):
    return factories.hugo_head(world)


def schedule(unit, coach, *, days=7, **extra):
    with organization_scope(unit.organization):
        return services.session_schedule(
            unit=unit, coach=coach, kind="monthly_review", scheduled_at=timezone.now() + timedelta(days=days), **extra
        )


def add_item(session, owner, *, title="Fix the press", days=14, by=None):
    with organization_scope(session.organization):
        return services.action_item_create(
            organization=session.unit.organization, title=title, owner=owner, session=session,
            due_date=timezone.localdate() + timedelta(days=days), created_by=by,
        )  # fmt: skip


@pytest.fixture
def session_b(world):
    coach_b = world.member_b
    return schedule(world.unit_b, coach_b)


# --- Bad input -------------------------------------------------------------------------------------------


def test_it_refuses_an_upcoming_session_in_the_past(world, coach):
    with pytest.raises(ValidationError) as caught, organization_scope(world.org_a):
        services.session_schedule(
            unit=world.division_a, coach=coach, kind="check_in", scheduled_at=timezone.now() - timedelta(hours=2)
        )
    message = caught.value.message_dict["scheduled_at"][0]
    assert message.endswith(" is in the past; an upcoming session needs a future time.")
    assert sessions_of(world.org_a).count() == 0


def test_it_refuses_a_participant_from_another_organization(world, coach):
    with pytest.raises(ValidationError) as caught:
        schedule(world.division_a, coach, participants=[world.member_b])
    assert caught.value.message_dict == {
        "participants": ["Admin of globex is not a member of this organization, so cannot be a participant."]
    }
    assert sessions_of(world.org_a).count() == 0


def test_it_refuses_an_action_item_due_before_today(world, coach, head):
    session = schedule(world.division_a, coach)
    yesterday = timezone.localdate() - timedelta(days=1)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as caught, organization_scope(world.org_a):
        services.action_item_create(
            organization=world.org_a, title="Late", owner=head, due_date=yesterday, created_by=coach, session=session
        )
    assert caught.value.message_dict == {
        "due_date": [f"The due date {yesterday:%d %b %Y} is before today ({today:%d %b %Y}); choose today or later."]
    }
    assert items_of(world.org_a).count() == 0


def test_the_notes_markdown_is_rendered_without_scripts_or_javascript_links(client, world, coach):
    session = schedule(world.division_a, coach)
    with organization_scope(world.org_a):
        services.session_update(session=session, notes=NASTY_NOTES)
    client.force_login(coach)
    response = client.get(url("coaching_session", pk=session.pk))
    html = response.content.decode()
    assert f'<div class="prose" id="session-notes">{CLEAN_NOTES}</div>' in html
    assert "alert" not in html
    assert "javascript:" not in html


# --- Holding a session -----------------------------------------------------------------------------------


def test_holding_snapshots_values_that_stay_after_a_later_edit(world, coach):
    month = due_month(world.org_a)
    with organization_scope(world.org_a):
        otd = kpi_services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80), measurement_unit="%"
        )
        kpi_services.kpi_create(
            unit=world.company_a, name="Scrap", code="SCR", baseline=Decimal(0)
        )  # the parent unit's: not discussed
        kpi_services.target_create(kpi=otd, period=month, value=Decimal(100))
        measurement = kpi_services.measurement_record(kpi=otd, period=month, value=Decimal(96), by=world.admin_a)
        scores_recompute(organization=world.org_a, unit_ids={world.division_a.pk}, months={month})
    session = schedule(world.division_a, coach, days=1)
    client_session = session
    with organization_scope(world.org_a):
        services.session_hold(session=client_session)
        kpi_services.measurement_record(
            kpi=otd, period=month, value=Decimal(70), by=world.admin_a, expected_version=measurement.version
        )
        scores_recompute(organization=world.org_a, unit_ids={world.division_a.pk}, months={month})
    snapshot = SessionKpiSnapshot.objects.for_organization(world.org_a).get()
    assert (snapshot.kpi_id, snapshot.period, snapshot.actual, snapshot.target) == (otd.pk, month, 96, 100)
    assert (snapshot.score, snapshot.status) == (Decimal("0.8000"), "amber")
    session.refresh_from_db()
    assert session.status == SessionStatus.HELD and session.held_at is not None


def test_editing_the_notes_of_a_held_session_keeps_the_earlier_text(world, coach):
    session = schedule(world.division_a, coach, days=1)
    with organization_scope(world.org_a):
        services.session_update(session=session, notes="First take")
        services.session_hold(session=session)
        services.session_update(session=session, notes="Corrected take")
    events = CoachingSession.pgh_event_models["insert"].objects.filter(pgh_obj=session).order_by("pgh_id")
    assert [event.notes for event in events] == ["", "First take", "Corrected take"]
    assert session.notes == "Corrected take"


def test_the_previous_sessions_open_items_appear_in_the_next_one(client, world, coach, head):
    first = schedule(world.division_a, coach, days=1)
    open_item = add_item(first, head, title="Call the supplier")
    done_item = add_item(first, head, title="Order gloves")
    with organization_scope(world.org_a):
        services.action_item_set_status(item=done_item, status=ActionItemStatus.DONE)
    second = schedule(world.division_a, coach, days=20)
    client.force_login(head)
    html = client.get(url("coaching_session", pk=second.pk)).content.decode()
    review = html.split('id="review-items"')[1].split("</ul>")[0]
    assert open_item.title in review
    assert done_item.title not in review


# --- Reading -----------------------------------------------------------------------------------------------


def test_the_index_lists_only_the_sessions_each_role_may_read(client, world, coach, head, member_of_role):
    other_coach = factories.add_member(world.org_a, Role.COACH).user
    own = schedule(world.department_a, coach)
    foreign_unit = schedule(world.company_a, other_coach)
    expected = {
        world.admin_a: {own.pk, foreign_unit.pk},
        member_of_role(Role.EXECUTIVE): {own.pk, foreign_unit.pk},
        head: {own.pk},
        coach: {own.pk},
        other_coach: {foreign_unit.pk},
    }
    for user, pks in expected.items():
        client.force_login(user)
        response = client.get(url("coaching_index"))
        assert {s.pk for s in response.context["upcoming"]} == pks, user
    client.force_login(world.viewer_a)
    response = client.get(url("coaching_index"))
    assert response.status_code == 403
    assert "Your role may not read coaching sessions and notes." in response.content.decode()
    assert client.get(url("coaching_session", pk=own.pk)).status_code == 403


def test_a_session_of_another_organization_is_not_found(client, world, session_b):
    client.force_login(world.admin_a)
    assert client.get(url("coaching_session", pk=session_b.pk)).status_code == 404


# --- Scheduling --------------------------------------------------------------------------------------------


def _schedule_form(world, **extra):
    when = timezone.localtime(timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    return {"unit": world.division_a.pk, "kind": "monthly_review", "scheduled_at": when, "agenda": "KPIs", **extra}


def test_a_coach_schedules_a_session(client, world, coach, head):
    client.force_login(coach)
    response = client.post(url("coaching_session_schedule"), _schedule_form(world, participants=[head.pk]))
    session = sessions_of(world.org_a).get()
    assert response.status_code == 302 and response.url == url("coaching_session", pk=session.pk)
    assert (session.coach, session.unit, session.agenda) == (coach, world.division_a, "KPIs")
    assert list(session.participants.all()) == [head]


def test_scheduling_in_the_past_rerenders_the_form_with_the_reason(client, world, coach):
    client.force_login(coach)
    when = timezone.localtime(timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url("coaching_session_schedule"), _schedule_form(world, scheduled_at=when))
    assert response.status_code == 200
    assert "is in the past; an upcoming session needs a future time." in response.content.decode()
    assert sessions_of(world.org_a).count() == 0


def test_a_department_head_may_not_schedule(client, world, head):
    client.force_login(head)
    assert client.post(url("coaching_session_schedule"), _schedule_form(world)).status_code == 403
    assert sessions_of(world.org_a).count() == 0


# --- Notes, hold, cancel -----------------------------------------------------------------------------------


NOTES_FORM = {"agenda": "A", "notes": "N", "wins": "W", "challenges": "C"}


def test_the_coach_edits_the_notes(client, world, coach):
    session = schedule(world.division_a, coach)
    client.force_login(coach)
    response = client.post(url("coaching_session_edit", pk=session.pk), NOTES_FORM)
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.agenda, session.notes, session.wins, session.challenges) == ("A", "N", "W", "C")


def test_notes_of_another_organization_are_not_found(client, world, session_b):
    client.force_login(world.admin_a)
    assert client.post(url("coaching_session_edit", pk=session_b.pk), NOTES_FORM).status_code == 404


def test_a_department_head_may_not_edit_notes(client, world, coach, head):
    session = schedule(world.division_a, coach)
    client.force_login(head)
    assert client.post(url("coaching_session_edit", pk=session.pk), NOTES_FORM).status_code == 403
    session.refresh_from_db()
    assert session.notes == ""


@pytest.mark.parametrize("action,status", [("coaching_session_hold", "held"), ("coaching_session_cancel", "cancelled")])
def test_the_coach_holds_or_cancels(client, world, coach, action, status):
    session = schedule(world.division_a, coach, days=1)
    client.force_login(coach)
    assert client.post(url(action, pk=session.pk)).status_code == 302
    session.refresh_from_db()
    assert session.status == status


@pytest.mark.parametrize("action", ["coaching_session_hold", "coaching_session_cancel"])
def test_hold_and_cancel_of_another_organization_are_not_found(client, world, session_b, action):
    client.force_login(world.admin_a)
    assert client.post(url(action, pk=session_b.pk)).status_code == 404


@pytest.mark.parametrize("action", ["coaching_session_hold", "coaching_session_cancel"])
def test_another_coach_may_not_hold_or_cancel(client, world, coach, action):
    session = schedule(world.division_a, coach)
    client.force_login(factories.add_member(world.org_a, Role.COACH).user)
    assert client.post(url(action, pk=session.pk)).status_code == 403
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


# --- Action items --------------------------------------------------------------------------------------------


def _item_form(owner, days=7):
    return {"title": "Retrain shift B", "owner": owner.pk, "due_date": str(timezone.localdate() + timedelta(days=days))}


def test_the_coach_adds_an_action_item_inline(client, world, coach, head):
    session = schedule(world.division_a, coach)
    client.force_login(coach)
    response = client.post(url("coaching_session_action_add", pk=session.pk), _item_form(head), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<section aria-labelledby="items-h" id="session-actions">')
    due = timezone.localdate() + timedelta(days=7)
    assert "Retrain shift B" in html
    assert f"Action item added: “Retrain shift B”, owned by Hugo Head, due {due:%-d %b %Y}." in html
    item = items_of(world.org_a).get()
    assert (item.owner, item.session, item.unit, item.created_by) == (head, session, world.division_a, coach)


def test_an_item_due_yesterday_is_refused_inline(client, world, coach, head):
    session = schedule(world.division_a, coach)
    client.force_login(coach)
    response = client.post(
        url("coaching_session_action_add", pk=session.pk), _item_form(head, days=-1), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200  # htmx swaps the form with its error in
    assert "is before today" in response.content.decode()
    assert items_of(world.org_a).count() == 0


def test_adding_an_item_to_another_organizations_session_is_not_found(client, world, session_b, head):
    client.force_login(world.admin_a)
    assert client.post(url("coaching_session_action_add", pk=session_b.pk), _item_form(head)).status_code == 404


def test_a_viewer_may_not_add_action_items(client, world, coach, head):
    session = schedule(world.division_a, coach)
    client.force_login(world.viewer_a)
    assert client.post(url("coaching_session_action_add", pk=session.pk), _item_form(head)).status_code == 403
    assert items_of(world.org_a).count() == 0


def test_a_department_head_marks_their_own_item_done_and_reopens_it(client, world, coach, head):
    item = add_item(schedule(world.department_a, coach), head)
    client.force_login(head)
    response = client.post(url("coaching_action_status", pk=item.pk), {"status": "done", "swap": "overview"},
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    assert "No open action items." in response.content.decode()
    item.refresh_from_db()
    assert item.status == "done" and item.completed_at is not None
    client.post(url("coaching_action_status", pk=item.pk), {"status": "open"})
    item.refresh_from_db()
    assert item.status == "open" and item.completed_at is None


def test_the_status_of_another_organizations_item_is_not_found(client, world, session_b):
    item = add_item(session_b, world.member_b)
    client.force_login(world.admin_a)
    assert client.post(url("coaching_action_status", pk=item.pk), {"status": "done"}).status_code == 404


def test_a_department_head_may_not_close_someone_elses_item_outside_their_units(client, world, coach, head):
    item = add_item(schedule(world.company_a, coach), coach)
    client.force_login(head)
    assert client.post(url("coaching_action_status", pk=item.pk), {"status": "done"}).status_code == 403
    item.refresh_from_db()
    assert item.status == "open"


def test_the_home_page_lists_the_users_open_items(client, world, coach, head):
    session = schedule(world.division_a, coach)
    add_item(session, head, title="Call the supplier")
    add_item(session, coach, title="Not Hugo's")
    client.force_login(head)
    html = client.get(url("org_overview")).content.decode()
    mine = html.split('id="my-actions"')[1].split("</section>")[0]
    assert "Call the supplier" in mine and "Not Hugo's" not in mine


def test_the_board_groups_by_owner_or_unit_and_flags_overdue_items(client, world, coach, head):
    session = schedule(world.division_a, coach)
    add_item(session, head, title="Call the supplier")
    late = add_item(session, coach, title="Send the minutes")
    items_of(world.org_a).filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=3))
    client.force_login(coach)
    response = client.get(url("coaching_actions"))
    groups = response.context["groups"]
    assert [(g.label, [i.title for i in g.items], g.overdue) for g in groups] == [
        ("Carla Coach", ["Send the minutes"], 1),
        ("Hugo Head", ["Call the supplier"], 0),
    ]
    assert "⚠ Overdue" in response.content.decode()
    by_unit = client.get(url("coaching_actions") + "?group=unit").context["groups"]
    assert [(g.label, len(g.items)) for g in by_unit] == [("Operations", 2)]

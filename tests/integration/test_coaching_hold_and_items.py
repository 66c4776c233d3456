"""Issue 15, items 8 and 12, and the viewers' coaching dead ends: holding a session early needs a confirmation,
the snapshot covers the unit and its sub-units red first, wins and challenges are Markdown, action items are
edited by whoever may create them (owners are never viewers), and a viewer gets the 403 page on every coaching
page."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bsc.models import Role
from bsc.permissions import action_item_owner_roles, may_own_action_items
from bsc.tenancy import organization_scope
from coaching import services
from coaching.models import ActionItem, CoachingSession, SessionStatus
from kpis import services as kpi_services
from kpis.data_entry import due_month
from kpis.recompute import scores_recompute
from tests import factories

pytestmark = pytest.mark.dates

VIEWER_ALLOWS = (
    "As a viewer you may read the strategy map, scorecards, KPIs and their exports; "
    "not coaching sessions, action items or data entry."
)


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def coach(world):
    user = factories.make_user("carla@acme.example.com", full_name="Carla Coach")
    return factories.add_member(world.org_a, Role.COACH, user=user).user


@pytest.fixture
def head(world):
    user = factories.make_user("hugo@acme.example.com", full_name="Hugo Head")
    return factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, user=user, units=[world.division_a]).user


def schedule(unit, coach, *, days=1, hours=0, **extra):
    with organization_scope(unit.organization):
        when = timezone.now() + timedelta(days=days, hours=hours)
        return services.session_schedule(unit=unit, coach=coach, kind="monthly_review", scheduled_at=when, **extra)


def add_item(session, owner, *, title="Fix the press", days=14, by=None):
    with organization_scope(session.organization):
        return services.action_item_create(
            organization=session.unit.organization, title=title, owner=owner, session=session,
            due_date=timezone.localdate() + timedelta(days=days), created_by=by,
        )  # fmt: skip


def status_of(session) -> str:
    return CoachingSession.objects.for_organization(session.organization_id).get(pk=session.pk).status


# --- Holding early -------------------------------------------------------------------------------------------


def test_holding_more_than_a_day_early_is_refused_until_confirmed(world, coach):
    session = schedule(world.division_a, coach, days=3, hours=2)
    local = timezone.localtime(session.scheduled_at, ZoneInfo(world.org_a.time_zone))
    with pytest.raises(ValidationError) as caught, organization_scope(world.org_a):
        services.session_hold(session=session)
    assert caught.value.message_dict == {
        "confirm_early": [
            f"This session is scheduled for {local:%a %-d %b %Y, %H:%M}, 3 days from now. Holding it now captures "
            "the KPI values as they stand today. Confirm to hold it early."
        ]
    }
    assert status_of(session) == SessionStatus.SCHEDULED
    with organization_scope(world.org_a):
        services.session_hold(session=session, confirm_early=True)
    assert status_of(session) == SessionStatus.HELD


def test_a_session_a_day_away_or_less_is_held_without_a_question(world, coach):
    session = schedule(world.division_a, coach, days=0, hours=23)
    with organization_scope(world.org_a):
        services.session_hold(session=session)
    assert status_of(session) == SessionStatus.HELD


def test_the_hold_button_answers_a_warning_page_then_holds_on_confirmation(client, world, coach, head):
    session = schedule(world.division_a, coach, days=6, participants=[head])
    client.force_login(coach)
    form = {"attendance": "taken", "attendees": [head.pk]}
    response = client.post(url("coaching_session_hold", pk=session.pk), form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hold this session early?" in page and "6 days from now" in page
    assert 'name="confirm_early" value="yes"' in page
    assert f'name="attendees" value="{head.pk}" class="checklist" id="attendee-attendees_0" checked>' in page
    assert status_of(session) == SessionStatus.SCHEDULED

    response = client.post(url("coaching_session_hold", pk=session.pk), form | {"confirm_early": "yes"})
    assert response.status_code == 302
    assert flashes(response) == ["Session held; the values of 0 KPIs were captured."]
    assert status_of(session) == SessionStatus.HELD
    with organization_scope(world.org_a):
        assert list(session.attendance.values_list("user_id", "attended")) == [(head.pk, True)]


def test_the_api_refuses_an_early_hold_without_confirm_early(client, world, coach):
    session = schedule(world.division_a, coach, days=4)
    client.force_login(coach)
    api = f"/api/v1/o/acme/sessions/{session.pk}/hold/"
    response = client.post(api, {}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["confirm_early"][0].endswith("Confirm to hold it early.")
    assert status_of(session) == SessionStatus.SCHEDULED
    response = client.post(api, {"confirm_early": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "held"


# --- The snapshot: the unit and its sub-units, red first -------------------------------------------------------


def test_the_snapshot_covers_the_sub_units_red_first_and_names_their_unit(client, world, coach):
    month = due_month(world.org_a)
    actuals = {
        ("OPS-GREEN", world.division_a): Decimal(95), ("OPS-NODATA", world.division_a): None,
        ("ASM-AMBER", world.department_a): Decimal(70), ("ASM-RED", world.department_a): Decimal(30),
        ("CO-RED", world.company_a): Decimal(10),  # the parent's: not this session's
    }  # fmt: skip
    with organization_scope(world.org_a):
        for (code, unit), actual in actuals.items():
            kpi = kpi_services.kpi_create(unit=unit, name=code.title(), code=code, baseline=Decimal(0))
            kpi_services.target_create(kpi=kpi, period=month, value=Decimal(100))
            if actual is not None:
                kpi_services.measurement_record(kpi=kpi, period=month, value=actual, by=world.admin_a)
        scores_recompute(organization=world.org_a, months={month})
    session = schedule(world.division_a, coach)
    client.force_login(coach)
    response = client.post(url("coaching_session_hold", pk=session.pk))
    assert flashes(response) == ["Session held; the values of 4 KPIs were captured."]

    response = client.get(url("coaching_session", pk=session.pk))
    rows = [(r["code"], r["unit"], r["light"].status) for r in response.context["snapshot_rows"]]
    assert rows == [
        ("ASM-RED", "Assembly", "red"),
        ("ASM-AMBER", "Assembly", "amber"),
        ("OPS-GREEN", "", "green"),
        ("OPS-NODATA", "", "grey"),
    ]
    page = response.content.decode()
    assert '<span class="kpi-code">ASM-RED</span> Asm-Red<span class="snapshot-unit"> · Assembly</span>' in page
    assert '<span class="kpi-code">OPS-GREEN</span> Ops-Green</td>' in page
    assert "the KPIs of Operations and of the units below it, each named" in page


def test_the_session_api_returns_the_snapshot_as_the_page_orders_it(client, world, coach):
    month = due_month(world.org_a)
    actuals = {
        ("OPS-GREEN", world.division_a): Decimal(95), ("OPS-NODATA", world.division_a): None,
        ("ASM-AMBER", world.department_a): Decimal(70), ("ASM-RED", world.department_a): Decimal(30),
    }  # fmt: skip
    with organization_scope(world.org_a):
        for (code, unit), actual in actuals.items():
            kpi = kpi_services.kpi_create(unit=unit, name=code.title(), code=code, baseline=Decimal(0))
            kpi_services.target_create(kpi=kpi, period=month, value=Decimal(100))
            if actual is not None:
                kpi_services.measurement_record(kpi=kpi, period=month, value=actual, by=world.admin_a)
        scores_recompute(organization=world.org_a, months={month})
    session = schedule(world.division_a, coach)
    client.force_login(coach)
    api = f"/api/v1/o/acme/sessions/{session.pk}/"
    assert client.get(api).json()["snapshots"] == []  # not held yet

    held = client.post(api + "hold/", {"confirm_early": True}, content_type="application/json")
    assert held.status_code == 200, held.json()
    client.force_login(world.viewer_a)  # a viewer reads no coaching
    assert client.get(api).status_code == 403
    executive = factories.add_member(world.org_a, Role.EXECUTIVE).user
    client.force_login(executive)
    snapshots = client.get(api).json()["snapshots"]
    assert held.json()["snapshots"] == snapshots

    assert [(s["code"], s["unit_name"], s["sub_unit"], s["status"]) for s in snapshots] == [
        ("ASM-RED", "Assembly", True, "red"),
        ("ASM-AMBER", "Assembly", True, "amber"),
        ("OPS-GREEN", "Operations", False, "green"),
        ("OPS-NODATA", "Operations", False, "grey"),
    ]
    page = client.get(url("coaching_session", pk=session.pk)).context["snapshot_rows"]
    assert [(s["code"], s["unit_name"] if s["sub_unit"] else "") for s in snapshots] == [
        (r["code"], r["unit"]) for r in page
    ]
    red = snapshots[0]
    assert red | {"kpi": None, "unit": None} == {
        "kpi": None, "code": "ASM-RED", "name": "Asm-Red", "unit": None, "unit_name": "Assembly", "sub_unit": True,
        "period": f"{month:%Y-%m}", "actual": "30.000000", "target": "100.000000", "score": red["score"],
        "status": "red",
    }  # fmt: skip
    assert red["unit"] == world.department_a.pk
    assert snapshots[3]["actual"] is None and snapshots[3]["score"] is None

    # Read only: a change of the session leaves its snapshot as it was, and the schema says so.
    changed = client.patch(api, {"snapshots": []}, content_type="application/json")
    assert changed.status_code == 403
    client.force_login(coach)
    changed = client.patch(api, {"notes": "Fine", "snapshots": []}, content_type="application/json")
    assert changed.status_code == 200 and len(changed.json()["snapshots"]) == 4
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    detail = schema["components"]["schemas"]["SessionDetail"]
    assert detail["properties"]["snapshots"]["readOnly"] is True
    assert detail["properties"]["snapshots"]["items"]["$ref"] == "#/components/schemas/SessionSnapshot"
    operation = schema["paths"]["/api/v1/o/{org_slug}/sessions/{id}/"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("SessionDetail")


# --- Wins and challenges as Markdown --------------------------------------------------------------------------


def test_wins_and_challenges_are_markdown_with_the_notes_sanitiser(client, world, coach):
    session = schedule(world.division_a, coach)
    with organization_scope(world.org_a):
        services.session_update(
            session=session, wins="- Two weeks without a late order\n- Scrap **down**",
            challenges="[the plan](javascript:alert(1)) and <a href=\"javascript:alert(2)\">raw</a> <script>x()</script>",
        )  # fmt: skip
    client.force_login(coach)
    page = client.get(url("coaching_session", pk=session.pk)).content.decode()
    assert (
        '<div class="prose" id="session-wins"><ul>\n<li>Two weeks without a late order</li>\n'
        "<li>Scrap <strong>down</strong></li>\n</ul></div>"
    ) in page
    challenges = page.split('id="session-challenges">')[1].split("</div>")[0]
    assert challenges == '<p>the plan and <a rel="noopener noreferrer">raw</a> </p>'  # no target: styled as text
    assert "javascript:" not in page and "x()" not in page


# --- Owners: never viewers -------------------------------------------------------------------------------------


def test_every_role_but_viewers_may_own_an_action_item(world):
    assert action_item_owner_roles() == (Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_HEAD, Role.COACH)
    assert not may_own_action_items(world.membership(world.viewer_a))
    assert may_own_action_items(world.membership(world.admin_a))


def test_a_viewer_cannot_be_made_the_owner(world, coach, head):
    session = schedule(world.division_a, coach)
    message = {
        "owner": [
            f"{world.viewer_a.display_name} is a viewer here and cannot own an action item; choose a member who may "
            "mark it done."
        ]
    }
    with pytest.raises(ValidationError) as caught, organization_scope(world.org_a):
        services.action_item_create(
            organization=world.org_a, title="Read the report", owner=world.viewer_a, session=session,
            due_date=timezone.localdate(), created_by=coach,
        )  # fmt: skip
    assert caught.value.message_dict == message
    item = add_item(session, head)
    with pytest.raises(ValidationError) as caught, organization_scope(world.org_a):
        services.action_item_update(item=item, owner=world.viewer_a)
    assert caught.value.message_dict == message
    assert ActionItem.objects.for_organization(world.org_a).get().owner == head


def test_the_owner_list_starts_with_a_prompt_and_offers_no_viewer(client, world, coach, head):
    session = schedule(world.division_a, coach)
    client.force_login(coach)
    form = client.get(url("coaching_session", pk=session.pk)).context["action_form"]
    options = [label for _, label in form.fields["owner"].choices]
    assert options[0] == "Choose an owner"
    assert "---------" not in options
    assert world.viewer_a.email not in " ".join(options)
    assert "Hugo Head (hugo@acme.example.com)" in options
    response = client.post(
        url("coaching_session_action_add", pk=session.pk),
        {"title": "Call the supplier", "owner": "", "due_date": str(timezone.localdate())},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200  # htmx swaps the form with its error in
    assert "Choose who owns this action item." in response.content.decode()
    assert ActionItem.objects.for_organization(world.org_a).count() == 0


# --- Editing an action item --------------------------------------------------------------------------------------


def edit_form(item, **changes):
    return {"title": item.title, "owner": item.owner_id, "due_date": str(item.due_date)} | changes


def test_the_coach_edits_an_item_and_reads_the_due_date_as_a_date(client, world, coach, head):
    session = schedule(world.division_a, coach)
    item = add_item(session, coach, title="Fix the press")
    client.force_login(coach)
    back = url("coaching_session", pk=session.pk)
    page = client.get(url("coaching_action_edit", pk=item.pk) + f"?next={back}")
    assert page.status_code == 200
    owner_options = [label for _, label in page.context["form"].fields["owner"].choices]
    assert "Choose an owner" not in owner_options and "---------" not in owner_options
    due = timezone.localdate() + timedelta(days=30)
    response = client.post(
        url("coaching_action_edit", pk=item.pk),
        edit_form(item, title="Fix press 3", owner=head.pk, due_date=str(due), next=back),
    )
    assert response.status_code == 302 and response.url == back
    assert flashes(response) == [f"Action item saved: “Fix press 3”, owned by Hugo Head, due {due:%-d %b %Y}."]
    item.refresh_from_db()
    assert (item.title, item.owner, item.due_date) == ("Fix press 3", head, due)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Give the action item a title."),
        ({"due_date": ""}, "due_date", "Choose a due date."),
        ({"due_date": "next week"}, "due_date", "Enter the due date as a date, e.g. 2026-12-18."),
        ({"due_date": "2020-01-01"}, "due_date", "The due date 01 Jan 2020 is before the item was created"),
        ("viewer", "owner", "Choose an owner from the list: a member who may mark the item done."),
    ],
)
def test_a_bad_edit_rerenders_the_form_with_the_reason(client, world, coach, changes, field, message):
    item = add_item(schedule(world.division_a, coach), coach)
    if changes == "viewer":
        changes = {"owner": world.viewer_a.pk}
    client.force_login(coach)
    response = client.post(url("coaching_action_edit", pk=item.pk), edit_form(item, **changes))
    assert response.status_code == 200  # the form again, with the reason
    assert message in " ".join(response.context["form"].errors[field])
    item.refresh_from_db()
    assert (item.title, item.owner) == ("Fix the press", coach)


def test_a_department_head_edits_items_of_their_units_only(client, world, coach, head):
    own = add_item(schedule(world.department_a, coach), head, title="Ours")
    elsewhere = add_item(schedule(world.company_a, coach), head, title="Theirs")
    client.force_login(head)
    assert client.post(url("coaching_action_edit", pk=own.pk), edit_form(own, title="Ours, renamed")).status_code == 302
    response = client.post(url("coaching_action_edit", pk=elsewhere.pk), edit_form(elsewhere, title="Mine now"))
    assert response.status_code == 403
    elsewhere.refresh_from_db()
    assert elsewhere.title == "Theirs"


def test_a_viewer_may_not_edit_an_item_and_another_organizations_is_not_found(client, world, coach):
    item = add_item(schedule(world.division_a, coach), coach)
    foreign = add_item(schedule(world.unit_b, world.member_b), world.member_b)
    client.force_login(world.viewer_a)
    response = client.post(url("coaching_action_edit", pk=item.pk), edit_form(item, title="Changed"))
    assert response.status_code == 403
    assert VIEWER_ALLOWS in response.content.decode()
    client.force_login(world.admin_a)
    assert client.get(url("coaching_action_edit", pk=foreign.pk)).status_code == 404
    assert client.post(url("coaching_action_edit", pk=foreign.pk), edit_form(foreign)).status_code == 404
    item.refresh_from_db()
    assert item.title == "Fix the press"


def test_the_api_patch_edits_through_the_same_service(client, world, coach, head):
    item = add_item(schedule(world.division_a, coach), coach)
    client.force_login(coach)
    api = f"/api/v1/o/acme/action-items/{item.pk}/"
    response = client.patch(api, {"owner": world.viewer_a.pk}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["owner"][0].endswith("cannot own an action item; choose a member who may mark it done.")
    response = client.patch(api, {"owner": head.pk, "title": "Fix press 3"}, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["title"]) == (head.pk, "Fix press 3")


# --- Viewers: the 403 page on every coaching page ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("coaching_calendar", "Your role may not read coaching sessions and notes."),
        ("coaching_cadences", "Your role may not read coaching sessions and notes."),
        ("coaching_actions", "Your role may not read action items."),
    ],
)
def test_a_viewer_following_an_old_coaching_link_gets_the_403_page(client, world, name, reason):
    client.force_login(world.viewer_a)
    response = client.get(url(name))
    assert response.status_code == 403
    page = response.content.decode()
    assert f"{reason} Nothing was changed." in page and VIEWER_ALLOWS in page


def test_a_viewer_may_not_create_a_calendar_feed(client, world):
    client.force_login(world.viewer_a)
    assert client.post(url("coaching_calendar_feed_reset")).status_code == 403


@pytest.mark.parametrize("name", ["coaching_calendar", "coaching_cadences", "coaching_actions"])
def test_the_other_roles_still_read_these_pages(client, world, member_of_role, name):
    for role in (Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_HEAD, Role.COACH):
        client.force_login(member_of_role(role))
        assert client.get(url(name)).status_code == 200, role

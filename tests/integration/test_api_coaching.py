"""The coaching API: sessions, action items and cadences.

Every endpoint gets the trio (it works; a role the matrix refuses gets 403 and nothing changes; another
organization's object is a 404 and nothing changes), bad input gets a 400 naming the field, and the lists
are filtered to what the caller may read.
"""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import cadences, services
from coaching.models import ActionItem, Cadence, CoachingSession
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

API = "/api/v1/o/acme/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def coach(world):
    user = factories.make_user("carla@acme.example.com", full_name="Carla Coach")
    return factories.add_member(world.org_a, Role.COACH, user=user).user


@pytest.fixture
def head(world):
    user = factories.make_user("hugo@acme.example.com", full_name="Hugo Head")
    return factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, user=user, units=[world.division_a]).user


def soon(days=3):
    return (timezone.now() + timedelta(days=days)).replace(microsecond=0)


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def schedule(unit, coach, days=3, **extra):
    with organization_scope(unit.organization):
        return services.session_schedule(unit=unit, coach=coach, kind="check_in", scheduled_at=soon(days), **extra)


def add_item(session, owner, *, title="Fix the press", days=7):
    with organization_scope(session.organization):
        return services.action_item_create(
            organization=session.unit.organization, title=title, owner=owner, session=session,
            due_date=timezone.localdate() + timedelta(days=days), created_by=session.coach,
        )  # fmt: skip


def make_cadence(unit, coach, **extra):
    values = {
        "kind": "monthly_review", "frequency": "weekly", "weekday": (timezone.localdate() + timedelta(days=1)).weekday(),
        "time_of_day": time(9, 0), "starts_on": timezone.localdate(),
    } | extra  # fmt: skip
    with organization_scope(unit.organization):
        return cadences.cadence_create(unit=unit, coach=coach, **values)


def snapshot(org):
    """Everything of an organization's coaching data a write could change, to prove nothing did."""
    with organization_scope(org):
        return {
            "sessions": list(
                CoachingSession.objects.order_by("id").values_list(
                    "id", "status", "scheduled_at", "notes", "agenda", "moved", "cadence_id"
                )
            ),
            "items": list(ActionItem.objects.order_by("id").values_list("id", "title", "status", "due_date", "owner")),
            "cadences": list(Cadence.objects.order_by("id").values_list("id", "time_of_day", "active", "weekday")),
        }


@pytest.fixture
def b_objects(world):
    session = schedule(world.unit_b, world.member_b)
    return {
        "session": session,
        "item": add_item(session, world.member_b),
        "cadence": make_cadence(world.unit_b, world.member_b),
    }


# --- Sessions -----------------------------------------------------------------------------------------------


def test_a_coach_schedules_reads_changes_and_holds_a_session(world, coach, head):
    client = client_for(coach)
    when = soon()
    response = client.post(
        API + "sessions/",
        {"unit": world.division_a.pk, "kind": "monthly_review", "scheduled_at": iso(when), "participants": [head.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    session_id = body["id"]
    assert body | {"created_at": None} == {
        "id": session_id, "unit": world.division_a.pk, "unit_name": "Operations", "kind": "monthly_review",
        "coach": coach.pk, "coach_name": "Carla Coach", "participants": [head.pk], "scheduled_at": iso(when),
        "held_at": None, "status": "scheduled", "agenda": "", "notes": "", "wins": "", "challenges": "",
        "cadence": None, "occurrence": None, "moved": False, "created_at": None, "snapshots": [],
    }  # fmt: skip
    assert client.get(API + f"sessions/{session_id}/").json()["kind"] == "monthly_review"
    later = soon(5)
    response = client.patch(
        API + f"sessions/{session_id}/", {"notes": "**Good**", "scheduled_at": iso(later)}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["notes"], response.json()["scheduled_at"]) == ("**Good**", iso(later))
    response = client.post(API + f"sessions/{session_id}/hold/", {"confirm_early": True}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "held"
    response = client.post(API + f"sessions/{session_id}/cancel/")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This session is already held."]}


def test_the_session_list_is_filtered_by_role_and_by_unit_status_and_dates(world, coach, head, member_of_role):
    own = schedule(world.division_a, coach, days=2)
    other_coach = factories.add_member(world.org_a, Role.COACH).user
    elsewhere = schedule(world.company_a, other_coach, days=9)
    schedule(world.unit_b, world.member_b)

    def ids(user, query=""):
        response = client_for(user).get(API + "sessions/" + query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(world.admin_a) == [own.pk, elsewhere.pk]
    assert ids(member_of_role(Role.EXECUTIVE)) == [own.pk, elsewhere.pk]
    assert ids(head) == [own.pk]
    assert ids(coach) == [own.pk]
    assert ids(world.viewer_a) == []
    assert ids(world.admin_a, f"?unit={world.company_a.pk}") == [elsewhere.pk]
    day = timezone.localtime(own.scheduled_at).date()
    assert ids(world.admin_a, f"?date_from={day}&date_to={day}") == [own.pk]
    assert ids(world.admin_a, f"?date_from={day + timedelta(days=1)}") == [elsewhere.pk]
    with organization_scope(world.org_a):
        services.session_cancel(session=own)
    assert ids(world.admin_a, "?status=cancelled") == [own.pk]
    response = client_for(world.admin_a).get(API + "sessions/?date_from=tomorrow&status=later")
    assert response.status_code == 400
    assert response.json() == {"status": ["“later” is not one of scheduled, held, cancelled."]}


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.DEPARTMENT_HEAD, Role.VIEWER])
def test_roles_that_do_not_coach_may_not_schedule(world, member_of_role, role):
    before = snapshot(world.org_a)
    response = client_for(member_of_role(role)).post(
        API + "sessions/", {"unit": world.division_a.pk, "kind": "check_in", "scheduled_at": iso(soon())}, format="json"
    )
    assert response.status_code == 403
    assert snapshot(world.org_a) == before


def test_a_coach_may_not_schedule_for_another_coach(world, coach):
    other = factories.add_member(world.org_a, Role.COACH).user
    before = snapshot(world.org_a)
    response = client_for(coach).post(
        API + "sessions/",
        {"unit": world.division_a.pk, "kind": "check_in", "scheduled_at": iso(soon()), "coach": other.pk},
        format="json",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Coaches schedule their own sessions; only admins name another coach."}
    assert snapshot(world.org_a) == before


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("patch", "", {"notes": "Changed"}),
        ("post", "hold/", {}),
        ("post", "cancel/", {}),
        ("patch", "", {"scheduled_at": "2031-01-01T09:00:00Z"}),
    ],
)
def test_session_writes_are_refused_to_readers_and_other_coaches(
    world, coach, head, member_of_role, method, path, body
):
    session = schedule(world.division_a, coach)
    before = snapshot(world.org_a)
    for user in (head, member_of_role(Role.EXECUTIVE), factories.add_member(world.org_a, Role.COACH).user):
        response = getattr(client_for(user), method)(API + f"sessions/{session.pk}/{path}", body, format="json")
        assert response.status_code == 403, user
    assert snapshot(world.org_a) == before


def test_reading_a_session_outside_ones_units_is_refused(world, coach, head):
    session = schedule(world.company_a, coach)
    assert client_for(head).get(API + f"sessions/{session.pk}/").status_code == 403
    assert client_for(world.viewer_a).get(API + f"sessions/{session.pk}/").status_code == 403


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", "", None),
        ("patch", "", {"notes": "Changed"}),
        ("post", "hold/", {}),
        ("post", "cancel/", {}),
    ],
)
def test_another_organizations_session_is_not_found(world, b_objects, method, path, body):
    before = snapshot(world.org_b)
    session = b_objects["session"]
    response = getattr(client_for(world.admin_a), method)(API + f"sessions/{session.pk}/{path}", body, format="json")
    assert response.status_code == 404
    assert snapshot(world.org_b) == before


def test_bad_session_input_gets_400_naming_the_fields(world, coach, b_objects):
    client = client_for(coach)
    response = client.post(
        API + "sessions/",
        {"unit": world.unit_b.pk, "kind": "party", "scheduled_at": "soon", "participants": [world.member_b.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "unit": [f'Invalid pk "{world.unit_b.pk}" - object does not exist.'],
        "kind": ['"party" is not a valid choice.'],
        "scheduled_at": ["Give the time in ISO 8601 with its UTC offset, e.g. 2027-03-10T09:00:00+01:00"],
        "participants": [f'Invalid pk "{world.member_b.pk}" - object does not exist.'],
    }
    response = client.post(
        API + "sessions/",
        {"unit": world.division_a.pk, "kind": "check_in", "scheduled_at": "2020-01-06T09:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "scheduled_at": ["06 Jan 2020 09:00 is in the past; an upcoming session needs a future time."]
    }
    assert CoachingSession.objects.for_organization(world.org_a).count() == 0


# --- Action items -------------------------------------------------------------------------------------------


def test_a_coach_creates_changes_and_closes_an_action_item(world, coach, head):
    session = schedule(world.division_a, coach)
    client = client_for(coach)
    due = timezone.localdate() + timedelta(days=10)
    response = client.post(
        API + "action-items/", {"title": "Call the supplier", "owner": head.pk, "due_date": str(due),
                                "session": session.pk}, format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body | {"created_at": None} == {
        "id": body["id"], "title": "Call the supplier", "owner": head.pk, "owner_name": "Hugo Head",
        "unit": world.division_a.pk, "due_date": str(due), "status": "open", "overdue": False, "completed_at": None,
        "created_at": None, "created_by": coach.pk, "session": session.pk, "kpi": None, "objective": None,
        "initiative": None,
    }  # fmt: skip
    response = client.patch(API + f"action-items/{body['id']}/", {"title": "Call the new supplier"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Call the new supplier"
    response = client.post(API + f"action-items/{body['id']}/status/", {"status": "done"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["completed_at"] is not None


def test_a_department_head_sets_the_status_of_their_own_item_but_cannot_change_others(world, coach, head):
    company_session = schedule(world.company_a, coach)
    own = add_item(company_session, head, title="Mine, outside my units")
    not_mine = add_item(company_session, coach, title="The coach's")
    client = client_for(head)
    assert client.post(API + f"action-items/{own.pk}/status/", {"status": "done"}, format="json").status_code == 200
    before = snapshot(world.org_a)
    assert client.post(API + f"action-items/{not_mine.pk}/status/", {"status": "done"}).status_code == 403
    assert client.patch(API + f"action-items/{own.pk}/", {"title": "Renamed"}, format="json").status_code == 403
    response = client.post(
        API + "action-items/",
        {"title": "Out of scope", "owner": head.pk, "due_date": str(timezone.localdate()), "unit": world.company_a.pk},
        format="json",
    )
    assert response.status_code == 403
    assert snapshot(world.org_a) == before
    response = client.post(
        API + "action-items/",
        {"title": "In scope", "owner": head.pk, "due_date": str(timezone.localdate()), "unit": world.department_a.pk},
        format="json",
    )
    assert response.status_code == 201


def test_a_viewer_may_not_create_change_or_close_items(world, coach, head):
    item = add_item(schedule(world.division_a, coach), head)
    client = client_for(world.viewer_a)
    before = snapshot(world.org_a)
    response = client.post(
        API + "action-items/",
        {"title": "x", "owner": head.pk, "due_date": str(timezone.localdate()), "unit": world.division_a.pk},
        format="json",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role (viewer) does not allow this: create and edit action items."}
    assert client.patch(API + f"action-items/{item.pk}/", {"title": "y"}, format="json").status_code == 403
    assert client.post(API + f"action-items/{item.pk}/status/", {"status": "done"}, format="json").status_code == 403
    assert snapshot(world.org_a) == before


def test_the_item_list_filters_by_owner_status_and_overdue(world, coach, head, member_of_role):
    session = schedule(world.division_a, coach)
    add_item(session, head, title="Open")
    late = add_item(session, coach, title="Late")
    ActionItem.objects.for_organization(world.org_a).filter(pk=late.pk).update(
        due_date=timezone.localdate() - timedelta(days=2)
    )
    done = add_item(schedule(world.company_a, coach), coach, title="Done elsewhere")
    with organization_scope(world.org_a):
        services.action_item_set_status(item=done, status="done")
    add_item(schedule(world.unit_b, world.member_b), world.member_b)

    def titles(user, query=""):
        response = client_for(user).get(API + "action-items/" + query)
        assert response.status_code == 200, response.json()
        return [(row["title"], row["overdue"]) for row in response.json()["results"]]

    assert titles(coach) == [("Late", True), ("Open", False), ("Done elsewhere", False)]
    assert titles(coach, "?overdue=true") == [("Late", True)]
    assert titles(coach, f"?owner={head.pk}") == [("Open", False)]
    assert titles(coach, "?owner=me&status=done") == [("Done elsewhere", False)]
    assert titles(head) == [("Late", True), ("Open", False)]  # the division's items, none of the company's
    assert titles(world.viewer_a) == []
    assert titles(member_of_role(Role.EXECUTIVE), "?status=open") == [("Late", True), ("Open", False)]


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", "", None),
        ("patch", "", {"title": "Changed"}),
        ("post", "status/", {"status": "done"}),
    ],
)
def test_another_organizations_item_is_not_found(world, b_objects, method, path, body):
    before = snapshot(world.org_b)
    item = b_objects["item"]
    response = getattr(client_for(world.admin_a), method)(API + f"action-items/{item.pk}/{path}", body, format="json")
    assert response.status_code == 404
    assert snapshot(world.org_b) == before


def test_bad_item_input_gets_400_naming_the_fields(world, coach, head, b_objects):
    client = client_for(coach)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(
        API + "action-items/",
        {"title": "", "owner": world.member_b.pk, "due_date": "next week", "session": b_objects["session"].pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "title": ["This field may not be blank."],
        "owner": [f'Invalid pk "{world.member_b.pk}" - object does not exist.'],
        "due_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        "session": [f'Invalid pk "{b_objects["session"].pk}" - object does not exist.'],
    }
    response = client.post(
        API + "action-items/",
        {"title": "Late", "owner": head.pk, "due_date": str(yesterday), "unit": world.division_a.pk},
        format="json",
    )
    assert response.status_code == 400
    today = timezone.localdate()
    assert response.json() == {
        "due_date": [f"The due date {yesterday:%d %b %Y} is before today ({today:%d %b %Y}); choose today or later."]
    }
    item = add_item(schedule(world.division_a, coach), head)
    response = client.post(API + f"action-items/{item.pk}/status/", {"status": "finished"}, format="json")
    assert response.status_code == 400 and response.json() == {"status": ['"finished" is not a valid choice.']}
    assert ActionItem.objects.for_organization(world.org_a).count() == 1


# --- Cadences -----------------------------------------------------------------------------------------------


def cadence_body(world, **extra):
    day = timezone.localdate() + timedelta(days=1)
    return {
        "unit": world.division_a.pk, "kind": "check_in", "frequency": "biweekly", "weekday": day.weekday(),
        "time_of_day": "14:00", "starts_on": str(timezone.localdate()),
    } | extra  # fmt: skip


def test_a_coach_creates_reads_changes_generates_and_stops_a_cadence(world, coach, head):
    client = client_for(coach)
    response = client.post(API + "cadences/", cadence_body(world, participants=[head.pk]), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    weekday = (timezone.localdate() + timedelta(days=1)).strftime("%A")
    assert body | {"id": None, "created_at": None} == {
        "id": None, "unit": world.division_a.pk, "kind": "check_in", "coach": coach.pk, "participants": [head.pk],
        "frequency": "biweekly", "weekday": (timezone.localdate() + timedelta(days=1)).weekday(),
        "week_of_month": None, "time_of_day": "14:00:00", "starts_on": str(timezone.localdate()), "ends_on": None,
        "agenda": "", "active": True, "rule": f"Every two weeks on {weekday} at 14:00", "created_at": None,
    }  # fmt: skip
    cadence_id = body["id"]
    sessions = client.get(API + f"sessions/?cadence={cadence_id}").json()["results"]
    assert len(sessions) == 4 and {s["participants"][0] for s in sessions} == {head.pk}
    assert client.get(API + f"cadences/{cadence_id}/").json()["rule"] == body["rule"]
    response = client.patch(API + f"cadences/{cadence_id}/", {"time_of_day": "08:30"}, format="json")
    assert response.status_code == 200 and response.json()["time_of_day"] == "08:30:00"
    assert {
        s["scheduled_at"][11:16] for s in client.get(API + f"sessions/?cadence={cadence_id}").json()["results"]
    } == {"08:30"}
    response = client.post(API + f"cadences/{cadence_id}/generate/", {"horizon_days": 120}, format="json")
    assert response.status_code == 200 and response.json()["created"] in (4, 5)
    assert client.post(API + f"cadences/{cadence_id}/generate/", {"horizon_days": 120}).json() == {"created": 0}
    assert client.delete(API + f"cadences/{cadence_id}/").status_code == 204
    assert client.get(API + f"cadences/{cadence_id}/").json()["active"] is False
    assert client.get(API + f"sessions/?cadence={cadence_id}").json()["results"] == []


def test_the_cadence_list_shows_what_the_member_may_read(world, coach, head, member_of_role):
    own = make_cadence(world.division_a, coach)
    other = make_cadence(world.company_a, factories.add_member(world.org_a, Role.COACH).user)
    make_cadence(world.unit_b, world.member_b)

    def ids(user):
        return [row["id"] for row in client_for(user).get(API + "cadences/").json()["results"]]

    assert ids(world.admin_a) == [own.pk, other.pk]
    assert ids(member_of_role(Role.EXECUTIVE)) == [own.pk, other.pk]
    assert ids(head) == [own.pk]
    assert ids(coach) == [own.pk]
    assert ids(world.viewer_a) == []
    assert client_for(head).get(API + f"cadences/{other.pk}/").status_code == 403


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("patch", "", {"time_of_day": "07:00"}),
        ("delete", "", None),
        ("post", "generate/", {}),
    ],
)
def test_cadence_writes_are_refused_to_readers_and_other_coaches(
    world, coach, head, member_of_role, method, path, body
):
    cadence = make_cadence(world.division_a, coach)
    CoachingSession.objects.for_organization(world.org_a).filter(cadence=cadence).order_by("-occurrence")[
        :1
    ].get().delete()
    before = snapshot(world.org_a)
    for user in (head, member_of_role(Role.EXECUTIVE), factories.add_member(world.org_a, Role.COACH).user):
        response = getattr(client_for(user), method)(API + f"cadences/{cadence.pk}/{path}", body, format="json")
        assert response.status_code == 403, user
    assert snapshot(world.org_a) == before


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.DEPARTMENT_HEAD, Role.VIEWER])
def test_roles_that_do_not_coach_may_not_create_cadences(world, member_of_role, role):
    before = snapshot(world.org_a)
    response = client_for(member_of_role(role)).post(API + "cadences/", cadence_body(world), format="json")
    assert response.status_code == 403
    assert snapshot(world.org_a) == before


def test_a_coach_may_not_hand_a_cadence_to_another_coach_but_an_admin_may(world, coach):
    other = factories.add_member(world.org_a, Role.COACH).user
    cadence = make_cadence(world.division_a, coach)
    before = snapshot(world.org_a)
    response = client_for(coach).patch(API + f"cadences/{cadence.pk}/", {"coach": other.pk}, format="json")
    assert response.status_code == 403
    assert snapshot(world.org_a) == before
    response = client_for(world.admin_a).patch(API + f"cadences/{cadence.pk}/", {"coach": other.pk}, format="json")
    assert response.status_code == 200 and response.json()["coach"] == other.pk
    upcoming = CoachingSession.objects.for_organization(world.org_a).filter(cadence=cadence)
    assert set(upcoming.values_list("coach", flat=True)) == {other.pk}


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", "", None),
        ("patch", "", {"time_of_day": "07:00"}),
        ("delete", "", None),
        ("post", "generate/", {}),
    ],
)
def test_another_organizations_cadence_is_not_found(world, b_objects, method, path, body):
    before = snapshot(world.org_b)
    cadence = b_objects["cadence"]
    response = getattr(client_for(world.admin_a), method)(API + f"cadences/{cadence.pk}/{path}", body, format="json")
    assert response.status_code == 404
    assert snapshot(world.org_b) == before


def test_bad_cadence_input_gets_400_naming_the_fields(world, coach, b_objects):
    client = client_for(coach)
    body = cadence_body(world)
    del body["weekday"]
    response = client.post(API + "cadences/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"weekday": ["Choose the weekday the sessions fall on (Monday to Sunday)."]}
    response = client.post(
        API + "cadences/",
        cadence_body(world, starts_on="2031-03-01", ends_on="2031-02-01", participants=[world.member_b.pk]),
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"participants": [f'Invalid pk "{world.member_b.pk}" - object does not exist.']}
    response = client.post(API + "cadences/", cadence_body(world, starts_on="2031-03-01", ends_on="2031-02-01"))
    assert response.status_code == 400
    assert response.json() == {
        "ends_on": [
            "The end date 01 Feb 2031 is before the start date 01 Mar 2031; a cadence cannot end before it starts."
        ]
    }
    response = client.post(API + "cadences/", cadence_body(world, frequency="monthly", weekday=9, time_of_day="25:00"))
    assert response.status_code == 400
    assert response.json() == {
        "time_of_day": ["Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]]."]
    }
    response = client.post(API + "cadences/", cadence_body(world, frequency="monthly", weekday=9))
    assert response.json() == {
        "weekday": ["9 is not a weekday; use 0 (Monday) to 6 (Sunday)."],
        "week_of_month": ["A monthly cadence needs the week of the month: 1st, 2nd, 3rd, 4th or last."],
    }
    assert Cadence.objects.for_organization(world.org_a).count() == 0
    cadence = make_cadence(world.division_a, coach)
    response = client.patch(API + f"cadences/{cadence.pk}/", {"unit": world.company_a.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"unit": ["A cadence stays with its unit; set up a new one on the other unit."]}
    response = client.post(API + f"cadences/{cadence.pk}/generate/", {"horizon_days": 0}, format="json")
    assert response.status_code == 400
    assert response.json() == {"horizon_days": ["Ensure this value is greater than or equal to 1."]}


def test_the_schema_lists_the_coaching_endpoints(db):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/o/{org_slug}/sessions/"]) == {"get", "post"}
    assert set(paths["/api/v1/o/{org_slug}/sessions/{id}/"]) == {"get", "patch"}
    assert set(paths["/api/v1/o/{org_slug}/sessions/{id}/hold/"]) == {"post"}
    assert set(paths["/api/v1/o/{org_slug}/sessions/{id}/cancel/"]) == {"post"}
    assert set(paths["/api/v1/o/{org_slug}/action-items/"]) == {"get", "post"}
    assert set(paths["/api/v1/o/{org_slug}/action-items/{id}/"]) == {"get", "patch"}
    assert set(paths["/api/v1/o/{org_slug}/action-items/{id}/status/"]) == {"post"}
    assert set(paths["/api/v1/o/{org_slug}/cadences/{id}/"]) == {"get", "patch", "delete"}
    assert set(paths["/api/v1/o/{org_slug}/cadences/{id}/generate/"]) == {"post"}
    params = {p["name"] for p in paths["/api/v1/o/{org_slug}/action-items/"]["get"]["parameters"]}
    assert {"owner", "status", "overdue"} <= params

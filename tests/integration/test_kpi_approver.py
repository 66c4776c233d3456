"""The KPI's approver (issue 17's leftovers): chosen on the KPI form and through the API, among the members who may
enter the unit's values (bsc.permissions.may_approve_values_of), refused with one message by the service otherwise;
and a value's approval state in the measurement API, with its `approve/` and `return/` actions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from bsc import services as bsc_services
from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import period_close, services
from kpis.models import Approval, Kpi, Measurement
from tests import factories

API = "/api/v1/o/acme/"
OCT = date(2026, 10, 1)
NOT_ALLOWED = (
    "The approver must be an admin, an executive or a department head of Assembly (or of a unit above it): someone "
    "who may enter its values."
)


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    """Written for 18 Nov 2026 (October is over and may be closed): the module travels there itself."""
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


@pytest.fixture
def people(world):
    """Assembly (below Operations) and who may approve its KPIs: the admin, an executive and Hugo, head of
    Operations; not a coach, a viewer or the head of another unit."""
    sales = factories.make_unit(world.org_a, "Sales", parent=world.company_a)
    executive = factories.add_member(
        world.org_a, Role.EXECUTIVE, user=factories.make_user("eve@acme.test", full_name="Eve Exec")
    ).user
    return {
        "executive": executive,
        "hugo": factories.hugo_head(world),
        "sales_head": factories.add_member(
            world.org_a,
            Role.DEPARTMENT_HEAD,
            user=factories.make_user("sam@acme.test", full_name="Sam Sales"),
            units=[sales],
        ).user,  # fmt: skip
        "coach": factories.carla_coach(world),
    }


@pytest.fixture
def otd(world, as_committed):
    with organization_scope(world.org_a), as_committed():
        return services.kpi_create(
            unit=world.department_a, name="On-time delivery", code="OTD", baseline=Decimal(80), measurement_unit="%"
        )


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def edit_post(kpi: Kpi, **changes) -> dict:
    return {
        "name": kpi.name, "code": kpi.code, "description": "", "measurement_unit": "%", "decimals": "1",
        "direction": "increase", "baseline": "80", "band_low": "", "band_high": "", "band_tolerance": "",
        "green_threshold": "", "amber_threshold": "", "weight": "1", "frequency": "monthly", "owner": "",
        "approver": "", "source": "manual", "formula": "", "rollup_method": "", "aligned_to": "",
        "time_aggregation": "average", "objective": "", **changes,
    }  # fmt: skip


def approver_of(world, kpi) -> int | None:
    with organization_scope(world.org_a):
        return Kpi.objects.get(pk=kpi.pk).approver_id


# --- The KPI form --------------------------------------------------------------------------------------------------


def test_the_kpi_form_offers_only_members_who_may_enter_the_units_values(world, people, otd):
    response = page_client(people["executive"]).get(reverse("kpi_edit", args=["acme", otd.pk]))
    field = response.context["form"].fields["approver"]
    assert [label for _, label in field.choices] == [
        "The owner",
        field.label_from_instance(world.admin_a),
        "Eve Exec (eve@acme.test)",
        "Hugo Head (hugo@acme.example.com)",
    ]
    assert 'id="id_approver"' in response.content.decode()


def test_an_executive_names_the_approver_on_the_kpi_form(world, people, otd):
    client = page_client(people["executive"])
    response = client.post(reverse("kpi_edit", args=["acme", otd.pk]), edit_post(otd, approver=people["hugo"].pk))
    assert response.status_code == 302
    assert approver_of(world, otd) == people["hugo"].pk
    form = client.get(reverse("kpi_edit", args=["acme", otd.pk])).context["form"]
    assert form["approver"].value() == people["hugo"].pk


@pytest.mark.parametrize("who", ["coach", "sales_head"])
def test_a_member_who_may_not_approve_is_refused_on_the_field_and_nothing_changes(world, people, otd, who):
    response = page_client(people["executive"]).post(
        reverse("kpi_edit", args=["acme", otd.pk]), edit_post(otd, approver=people[who].pk, name="Renamed")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["approver"] == [NOT_ALLOWED]
    assert 'id="id_approver_error"><p class="error">' + NOT_ALLOWED.replace("'", "&#x27;") in response.content.decode()
    with organization_scope(world.org_a):
        assert Kpi.objects.filter(pk=otd.pk).values_list("name", "approver_id").get() == ("On-time delivery", None)


def test_an_approver_who_may_no_longer_approve_is_named_when_the_kpi_is_saved(world, people, otd):
    with organization_scope(world.org_a):
        services.kpi_update(kpi=otd, approver=people["hugo"])
        hugo = factories.membership_of(people["hugo"], world.org_a)
        bsc_services.membership_update(membership=hugo, role=Role.VIEWER)
    client = page_client(people["executive"])
    form = client.get(reverse("kpi_edit", args=["acme", otd.pk])).context["form"]
    assert form["approver"].value() == people["hugo"].pk  # still shown, not silently dropped
    response = client.post(reverse("kpi_edit", args=["acme", otd.pk]), edit_post(otd, approver=people["hugo"].pk))
    assert response.context["form"].errors["approver"] == [NOT_ALLOWED]
    fixed = client.post(reverse("kpi_edit", args=["acme", otd.pk]), edit_post(otd, approver=""))
    assert fixed.status_code == 302
    assert approver_of(world, otd) is None


def test_the_kpi_service_refuses_an_approver_outside_the_organization(world, people, otd):
    from django.core.exceptions import ValidationError

    with organization_scope(world.org_a), pytest.raises(ValidationError) as refused:
        services.kpi_update(kpi=otd, approver=world.member_b)
    assert refused.value.message_dict == {"approver": ["The approver must be a member of the organization."]}


# --- The KPI API ---------------------------------------------------------------------------------------------------


def test_the_kpi_api_reads_and_sets_the_approver_through_the_service(world, people, otd):
    client = api(world.admin_a)
    assert client.get(f"{API}kpis/{otd.pk}/").json()["approver"] is None
    changed = client.patch(f"{API}kpis/{otd.pk}/", {"approver": people["hugo"].pk}, format="json")
    assert changed.status_code == 200
    assert changed.json()["approver"] == people["hugo"].pk
    assert approver_of(world, otd) == people["hugo"].pk
    refused = client.patch(f"{API}kpis/{otd.pk}/", {"approver": world.viewer_a.pk, "name": "X"}, format="json")
    assert (refused.status_code, refused.json()) == (400, {"approver": [NOT_ALLOWED]})
    other = client.patch(f"{API}kpis/{otd.pk}/", {"approver": world.member_b.pk}, format="json")
    assert other.status_code == 400 and list(other.json()) == ["approver"]  # Globex's member does not exist here
    created = client.post(
        f"{API}kpis/",
        {
            "unit": world.department_a.pk,
            "name": "Scrap",
            "code": "SCRAP",
            "baseline": "5",
            "approver": people["coach"].pk,
        },
        format="json",
    )
    assert (created.status_code, created.json()) == (400, {"approver": [NOT_ALLOWED]})
    with organization_scope(world.org_a):
        assert Kpi.objects.filter(pk=otd.pk).values_list("name", "approver_id").get() == (
            "On-time delivery", people["hugo"].pk
        )  # fmt: skip
        assert not Kpi.objects.filter(code="SCRAP").exists()


# --- Values' approval in the measurement API -----------------------------------------------------------------------


@pytest.fixture
def waiting(world, people, otd, as_committed):
    """Approval on; Hugo (head of Operations) enters October's OTD, which the executive approves."""
    with organization_scope(world.org_a), as_committed():
        bsc_services.organization_update(organization=world.org_a, values_need_approval=True)
        otd = Kpi.objects.get(pk=otd.pk)
        services.kpi_update(kpi=otd, approver=people["executive"])
        services.target_create(kpi=otd, period=OCT, value=Decimal(100))
        return services.measurement_record(kpi=otd, period=OCT, value=Decimal(95), by=people["hugo"], schedule=False)


def test_the_measurement_api_says_which_values_wait_and_the_approver_approves_one(world, people, waiting):
    listed = api(people["hugo"]).get(f"{API}measurements/?kpi={waiting.kpi_id}").json()["results"]
    assert [(m["approval"], m["reviewed_by"], m["reviewed_at"], m["return_comment"]) for m in listed] == [
        ("submitted", None, None, "")
    ]
    approved = api(people["executive"]).post(f"{API}measurements/{waiting.pk}/approve/")
    assert approved.status_code == 200
    body = approved.json()
    assert (body["id"], body["approval"], body["reviewed_by"], body["return_comment"]) == (
        waiting.pk, "approved", people["executive"].pk, ""
    )  # fmt: skip
    assert body["reviewed_at"].startswith("2026-11-18T10:3")  # the pinned clock ticks on
    again = api(people["executive"]).post(f"{API}measurements/{waiting.pk}/approve/")
    assert (again.status_code, again.json()) == (400, {"approval": ["This value is not waiting for approval."]})


def test_the_approver_returns_a_value_with_a_comment_through_the_api(world, people, waiting):
    client = api(people["executive"])
    empty = client.post(f"{API}measurements/{waiting.pk}/return/", {"return_comment": " "}, format="json")
    assert empty.status_code == 400 and list(empty.json()) == ["return_comment"]
    returned = client.post(
        f"{API}measurements/{waiting.pk}/return/", {"return_comment": "Check the backlog"}, format="json"
    )
    assert returned.status_code == 200
    assert (returned.json()["approval"], returned.json()["return_comment"]) == ("returned", "Check the backlog")


def test_only_the_approver_or_an_admin_reviews_and_nobody_their_own_value(world, people, waiting):
    own = api(people["hugo"])
    with organization_scope(world.org_a):
        services.kpi_update(kpi=Kpi.objects.get(pk=waiting.kpi_id), approver=people["hugo"])
    refused = own.post(f"{API}measurements/{waiting.pk}/approve/")
    assert (refused.status_code, refused.json()) == (
        400, {"approval": ["You entered this value: someone else must approve it."]}
    )  # fmt: skip
    not_approver = api(people["executive"]).post(f"{API}measurements/{waiting.pk}/approve/")
    assert (not_approver.status_code, not_approver.json()) == (
        403, {"detail": "Only the approver of OTD (or an admin) accepts or returns its values."}
    )  # fmt: skip
    viewer = api(world.viewer_a).post(f"{API}measurements/{waiting.pk}/return/", {"return_comment": "No"})
    assert viewer.status_code == 403
    outsider = api(world.member_b).post(f"/api/v1/o/globex/measurements/{waiting.pk}/approve/")
    assert outsider.status_code == 404
    with organization_scope(world.org_a):
        assert Measurement.objects.get(pk=waiting.pk).approval == Approval.SUBMITTED
    by_admin = api(world.admin_a).post(f"{API}measurements/{waiting.pk}/approve/")
    assert (by_admin.status_code, by_admin.json()["approval"]) == (200, "approved")


def test_a_value_of_a_closed_month_is_neither_approved_nor_returned(world, people, waiting):
    with organization_scope(world.org_a):
        period_close.period_close(unit=world.division_a, month=OCT, by=world.admin_a)
    client = api(people["executive"])
    for path, body in (("approve/", {}), ("return/", {"return_comment": "Too late"})):
        response = client.post(f"{API}measurements/{waiting.pk}/{path}", body, format="json")
        assert (response.status_code, response.json()) == (
            400,
            {"period": [f"Oct 2026 is closed for Operations (closed by {world.admin_a.display_name} on 18 Nov 2026): "
                        "OTD's values and targets of that period cannot change. An admin can reopen it."]},
        )  # fmt: skip
    with organization_scope(world.org_a):
        assert Measurement.objects.get(pk=waiting.pk).approval == Approval.SUBMITTED

"""Optional approval (issue 17, kpis/approval.py): with the organization's setting on, a department head's value waits
for the KPI's approver; scores read approved values only; a returned value carries its comment; nobody approves
their own value; the setting off leaves entry as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from bsc import services as bsc_services
from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import approval, services
from kpis.models import Approval, ImportBatch, Kpi, KpiScore, Measurement
from kpis.outbox import scores_recompute_pending
from tests import factories

pytestmark = pytest.mark.dates

OCT = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    """The module's values are for October 2026, which the KPI page lists while it is among its recent months: it
    travels to 18 Nov 2026 itself (before the world is built), whatever instant `make test-dates` pins the suite to."""
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


@pytest.fixture
def setup(world, as_committed):
    head = factories.hugo_head(world)  # head of Operations
    approver = factories.add_member(world.org_a, Role.EXECUTIVE).user
    with organization_scope(world.org_a), as_committed():
        bsc_services.organization_update(organization=world.org_a, values_need_approval=True)
        otd = services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80), owner=approver
        )
        services.target_create(kpi=otd, period=OCT, value=Decimal(100))
    return head, approver, otd


def month_score(world, kpi):
    scores_recompute_pending(organization=world.org_a)
    with organization_scope(world.org_a):
        row = KpiScore.objects.filter(kpi=kpi, period_kind="month", period=OCT).first()
    return None if row is None else (row.actual, row.score)


def membership(world, user):
    return factories.membership_of(user, world.org_a)


def test_an_approval_round_trip(world, setup):
    head, approver, otd = setup
    with organization_scope(world.org_a):
        value = services.measurement_record(kpi=otd, period=OCT, value=Decimal(95), by=head, comment="Good month")
    assert value.approval == Approval.SUBMITTED
    assert month_score(world, otd) == (None, None)  # waiting: the score does not use it
    with organization_scope(world.org_a):
        assert [
            m.pk for m in approval.waiting_list(organization=world.org_a, membership=membership(world, approver))
        ] == [value.pk]
        with pytest.raises(ValidationError) as refused:
            approval.measurement_return(
                measurement=value, comment=" ", by=approver, membership=membership(world, approver)
            )
        assert refused.value.message_dict == {
            "return_comment": ["Say why the value is returned; the person who entered it reads it."]
        }
        returned = approval.measurement_return(
            measurement=value, comment="Check the August backlog", by=approver, membership=membership(world, approver)
        )
        assert (returned.approval, returned.return_comment) == (Approval.RETURNED, "Check the August backlog")
        again = services.measurement_record(
            kpi=otd, period=OCT, value=Decimal(93), by=head, comment="Backlog counted", expected_version=1
        )
        assert (again.approval, again.return_comment) == (Approval.SUBMITTED, "")
        approved = approval.measurement_approve(measurement=again, by=approver, membership=membership(world, approver))
        assert (approved.approval, approved.reviewed_by) == (Approval.APPROVED, approver)
    assert month_score(world, otd) == (Decimal(93), Decimal("0.6500"))  # (93 - 80) / (100 - 80)


def test_nobody_approves_their_own_value_and_only_the_approver_or_an_admin_reviews(world, setup):
    head, approver, otd = setup
    with organization_scope(world.org_a):
        services.kpi_update(kpi=otd, approver=head)  # the head approves OTD, but not what they entered
        value = services.measurement_record(kpi=otd, period=OCT, value=Decimal(95), by=head)
        with pytest.raises(ValidationError) as own:
            approval.measurement_approve(measurement=value, by=head, membership=membership(world, head))
        assert own.value.message_dict == {"approval": ["You entered this value: someone else must approve it."]}
        with pytest.raises(PermissionDenied):
            approval.measurement_approve(measurement=value, by=approver, membership=membership(world, approver))
        approval.measurement_approve(measurement=value, by=world.admin_a, membership=membership(world, world.admin_a))
        assert Measurement.objects.get(pk=value.pk).approval == Approval.APPROVED


def test_values_of_admins_and_executives_and_with_the_setting_off_count_at_once(world, setup):
    head, approver, otd = setup
    with organization_scope(world.org_a):
        assert services.measurement_record(kpi=otd, period=OCT, value=Decimal(95), by=approver).approval == "approved"
        bsc_services.organization_update(organization=world.org_a, values_need_approval=False)
        otd = Kpi.objects.get(pk=otd.pk)  # as the next request reads it
        changed = services.measurement_record(kpi=otd, period=OCT, value=Decimal(90), by=head, expected_version=1)
        assert changed.approval == Approval.APPROVED


def test_an_imported_value_of_a_department_head_waits_too(world, setup):
    head, approver, otd = setup
    client = Client()
    client.force_login(head)
    upload = SimpleUploadedFile("values.csv", b"code,period,value\nOTD,2026-10,96\n")
    client.post(reverse("kpi_import", args=["acme"]), {"file": upload, "decimal_separator": "."})
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    client.post(reverse("kpi_import_confirm", args=["acme", batch.pk]))
    with organization_scope(world.org_a):
        assert Measurement.objects.get(kpi=otd, period=OCT).approval == Approval.SUBMITTED
    assert month_score(world, otd) == (None, None)


def test_the_pages_say_which_values_wait_and_the_approver_accepts_them_there(world, setup):
    head, approver, otd = setup
    with organization_scope(world.org_a):
        value = services.measurement_record(kpi=otd, period=OCT, value=Decimal(95), by=head)
    entry = Client()
    entry.force_login(head)
    assert (
        "waiting for approval" in entry.get(reverse("data_entry", args=["acme"]) + "?period=2026-10").content.decode()
    )
    own = entry.get(reverse("kpi_detail", args=["acme", otd.pk])).content.decode()
    assert "Waiting for approval: it does not count in the scores yet." in own
    assert reverse("measurement_approve", args=["acme", otd.pk, value.pk]) not in own  # not the head's to approve
    client = Client()
    client.force_login(approver)
    page = client.get(reverse("kpi_detail", args=["acme", otd.pk])).content.decode()
    assert reverse("measurement_approve", args=["acme", otd.pk, value.pk]) in page
    refused = client.post(reverse("measurement_return", args=["acme", otd.pk, value.pk]), {"return_comment": ""})
    assert refused.status_code == 302
    with organization_scope(world.org_a):
        assert Measurement.objects.get(pk=value.pk).approval == Approval.SUBMITTED
    client.post(reverse("measurement_approve", args=["acme", otd.pk, value.pk]))
    with organization_scope(world.org_a):
        assert Measurement.objects.get(pk=value.pk).approval == Approval.APPROVED
    assert month_score(world, otd) == (Decimal(95), Decimal("0.7500"))
    outsider = Client()
    outsider.force_login(world.member_b)
    assert outsider.post(reverse("measurement_approve", args=["globex", otd.pk, value.pk])).status_code == 404


def test_the_settings_page_turns_approval_on(world):
    client = Client()
    client.force_login(world.admin_a)
    page = client.get(reverse("admin_settings", args=["acme"])).content.decode()
    assert "Approve the values department heads enter" in page

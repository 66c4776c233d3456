"""The recompute outbox: changes note their KPI-periods in their own transaction, a recompute deletes exactly
the rows it claimed, a second run changes nothing, the full rebuild clears what it covered, the sweep finds
requests whose task was lost; and pages say "Recomputing…" while requests wait for the unit's scores."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.db.models.functions import Now
from django.urls import reverse

from bsc.models import Objective
from bsc.tenancy import organization_scope
from kpis import outbox, services
from kpis.models import PendingRecompute
from kpis.recompute import LOCK_NAMESPACE, scores_recompute_full
from kpis.tasks import scores_recompute
from tests import factories
from tests.recompute_world import (
    MONTHS,
    full_recompute_scores,
    make_rollups,
    other_connection,
    pending_count,
    stored_scores,
)

MARCH = MONTHS[-1]


@pytest.fixture
def rollups(world):
    return make_rollups(world)


def change(world, kpi, value, period=MARCH):
    with organization_scope(world.org_a):
        current = kpi.measurements.filter(period=period).first()
        services.measurement_record(
            kpi=kpi, period=period, value=Decimal(value), by=world.admin_a,
            expected_version=current.version if current else None,
        )  # fmt: skip


def run_task(world) -> int:
    return scores_recompute.apply(kwargs={"organization_id": world.org_a.pk}).get()


def test_a_change_notes_its_kpi_periods_in_its_own_transaction(world, rollups, transactional_db):
    with mock.patch("kpis.tasks.scores_recompute.delay") as publish:
        with transaction.atomic():
            change(world, rollups.speed, 11)
            change(world, rollups.quality, 12, period=MONTHS[0])
            assert pending_count(world.org_a) == 2  # written in the change's transaction
            assert publish.call_count == 0  # published only once it commits
        assert publish.call_args_list == [mock.call(organization_id=world.org_a.pk)]  # one task for both
    with organization_scope(world.org_a):
        assert sorted(PendingRecompute.objects.values_list("kpi_id", "period")) == sorted(
            [(rollups.speed.pk, MARCH), (rollups.quality.pk, MONTHS[0])]
        )

    with mock.patch("kpis.tasks.scores_recompute.delay") as publish:
        with pytest.raises(RuntimeError), transaction.atomic():
            change(world, rollups.people, 13)
            raise RuntimeError("the change fails after the request was noted")
        assert publish.call_count == 0
    assert pending_count(world.org_a) == 2  # its request went with it


def test_a_recompute_deletes_exactly_the_rows_it_claimed(world, rollups, transactional_db):
    """A change committed while a recompute runs (after its claim) keeps its outbox row for its own task."""
    change(world, rollups.speed, 21)
    real = outbox.scores_recompute

    def recompute_while_someone_saves(**kwargs):
        with other_connection() as other:  # commits on leaving the block
            other.execute(
                "INSERT INTO kpis_pendingrecompute (organization_id, kpi_id, period) VALUES (%s, %s, %s)",
                [world.org_a.pk, rollups.quality.pk, MARCH],
            )
        return real(**kwargs)

    with mock.patch("kpis.outbox.scores_recompute", side_effect=recompute_while_someone_saves):
        assert run_task(world) > 0
    with organization_scope(world.org_a):
        assert list(PendingRecompute.objects.values_list("kpi_id", "period")) == [(rollups.quality.pk, MARCH)]
    assert run_task(world) == 0  # its own task: no value of that KPI changed, so no score row is rewritten
    assert pending_count(world.org_a) == 0


def test_a_failed_recompute_leaves_its_rows_for_the_next_run(world, rollups, transactional_db):
    change(world, rollups.speed, 22)
    with (
        mock.patch("kpis.outbox.scores_recompute", side_effect=OSError("the database went away")),
        pytest.raises(OSError),
    ):
        outbox.scores_recompute_pending(organization=world.org_a)
    assert pending_count(world.org_a) == 1
    assert run_task(world) > 0
    assert pending_count(world.org_a) == 0


def test_a_recompute_run_twice_stores_the_same_rows(world, rollups, transactional_db):
    change(world, rollups.speed, 31)
    change(world, rollups.people, 32, period=MONTHS[1])
    assert run_task(world) > 0
    first = stored_scores(world.org_a)
    assert run_task(world) == 0  # a redelivered message: nothing left to do
    # The same requests again (a message of the same changes delivered twice): the same rows.
    with organization_scope(world.org_a):
        outbox.scores_recompute_request(
            organization_id=world.org_a.pk, changes=[(rollups.speed.pk, MARCH), (rollups.people.pk, MONTHS[1])]
        )
    assert run_task(world) == 0  # recomputed, and every value came out the same: no row rewritten
    assert pending_count(world.org_a) == 0
    assert stored_scores(world.org_a) == first
    assert first[("KpiScore", rollups.company_total.pk, "month", MARCH)]["actual"] == Decimal(31 + 20)


def test_the_full_rebuild_clears_the_requests_it_covered(world, rollups, transactional_db):
    change(world, rollups.speed, 41)
    real = outbox.scores_recompute_full

    def rebuild_while_someone_saves(**kwargs):
        count = real(**kwargs)
        with other_connection() as other:  # a change committed after the rebuild read its rows
            other.execute(
                "INSERT INTO kpis_pendingrecompute (organization_id, kpi_id, period) VALUES (%s, %s, %s)",
                [world.org_a.pk, rollups.quality.pk, MARCH],
            )
        return count

    with organization_scope(world.org_a), mock.patch("kpis.outbox.scores_recompute_full", rebuild_while_someone_saves):
        assert outbox.scores_rebuild(organization=world.org_a) > 0
        assert list(PendingRecompute.objects.values_list("kpi_id", flat=True)) == [rollups.quality.pk]
    assert stored_scores(world.org_a)[("KpiScore", rollups.speed.pk, "month", MARCH)]["actual"] == Decimal(41)


def test_the_sweep_takes_only_old_requests_of_organizations_not_recomputing_now(world, rollups, transactional_db):
    change(world, rollups.speed, 51)
    assert outbox.organizations_to_sweep() == []  # its task is probably on its way
    with organization_scope(world.org_a):
        PendingRecompute.objects.update(created_at=Now() - timedelta(minutes=2))  # the database's clock
    assert outbox.organizations_to_sweep() == [world.org_a.pk]
    with other_connection() as running:  # a recompute of the organization holds its lock
        running.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, world.org_a.pk])
        assert outbox.organizations_to_sweep() == []
        running.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, world.org_a.pk])
        assert outbox.organizations_to_sweep() == [world.org_a.pk]


# --- "Recomputing…" on the pages ---------------------------------------------------------------------------


BADGE = (
    'Recomputing…<span class="visually-hidden">: the scores shown may be out of date; they refresh by themselves '
    "in a moment.</span>"
)


def page(client, name, *args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_pages_say_recomputing_while_requests_wait_for_their_scores(world, rollups, client):
    slug = world.org_a.slug
    sales = factories.make_unit(world.org_a, "Sales", parent=world.company_a)
    client.force_login(world.viewer_a)
    change(world, rollups.speed, 61)  # a department KPI: the department, division and company recompute

    for unit in (world.department_a, world.division_a, world.company_a):
        html = page(client, "scorecard_detail", slug, unit.pk)
        assert BADGE in html
        assert f'hx-get="{reverse("scores_recomputing_unit", args=[slug, unit.pk])}" hx-trigger="every 2s"' in html
        assert 'title="A recent change is being worked into these scores' in html
    assert BADGE not in page(client, "scorecard_detail", slug, sales.pk)  # not below the change
    assert BADGE in page(client, "kpi_detail", slug, rollups.company_total.pk)
    assert BADGE in page(client, "strategy_map", slug, world.division_a.pk)
    for name in ("scorecard_index", "scorecard_cascade"):
        html = page(client, name, slug)
        assert BADGE in html
        assert html.count('>Recomputing…<span class="visually-hidden"> this score may be out of date') == 3

    with organization_scope(world.org_a):
        outbox.scores_recompute_pending(organization=world.org_a)
    for html in (
        page(client, "scorecard_detail", slug, world.company_a.pk),
        page(client, "kpi_detail", slug, rollups.company_total.pk),
        page(client, "strategy_map", slug, world.division_a.pk),
        page(client, "scorecard_index", slug),
        page(client, "scorecard_cascade", slug),
    ):
        assert "Recomputing…" not in html


def test_the_badge_asks_until_the_scores_are_recomputed_then_tells_the_page(world, rollups, client):
    client.force_login(world.viewer_a)
    url = reverse("scores_recomputing_unit", args=[world.org_a.slug, world.company_a.pk])
    change(world, rollups.quality, 71)
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert BADGE in response.content.decode()
    assert "HX-Trigger" not in response
    org_wide = client.get(reverse("scores_recomputing", args=[world.org_a.slug]), headers={"HX-Request": "true"})
    assert BADGE in org_wide.content.decode()

    with organization_scope(world.org_a):
        outbox.scores_recompute_pending(organization=world.org_a)
    response = client.get(url, headers={"HX-Request": "true"})
    assert (response.status_code, response.content, response["HX-Trigger"]) == (200, b"", '{"scoresRecomputed": {}}')


def test_the_badge_is_one_query(world, rollups, django_assert_num_queries):
    from kpis.selectors import scores_recomputing, units_recomputing

    change(world, rollups.speed, 81)
    with django_assert_num_queries(1):
        assert scores_recomputing(organization=world.org_a, unit=world.company_a)
    with django_assert_num_queries(1):
        assert units_recomputing(organization=world.org_a) == {
            world.company_a.pk, world.division_a.pk, world.department_a.pk
        }  # fmt: skip


def test_the_badge_of_another_organizations_unit_is_a_404(world, client):
    client.force_login(world.admin_a)
    url = reverse("scores_recomputing_unit", args=[world.org_a.slug, world.unit_b.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("scores_recomputing", args=[world.org_b.slug])).status_code == 404


# --- KPI definitions: the incremental path leaves the full rebuild nothing to do --------------------------


def full_rebuild_changes(world) -> int:
    """Run the task for what the outbox holds (the incremental path), then the full rebuild over its rows:
    the number of score rows the rebuild still had to write, change or delete (0 when the paths agree)."""
    run_task(world)
    assert pending_count(world.org_a) == 0
    with organization_scope(world.org_a):
        return scores_recompute_full(organization=world.org_a)


def new_kpi(world, code, **fields):
    with organization_scope(world.org_a):
        goal = Objective.objects.get(name="Assemble well")
        return services.kpi_create(
            unit=world.department_a, name=code, code=code, baseline=Decimal(0), objective=goal, **fields
        )


def test_a_new_kpi_with_one_target_and_one_value_leaves_the_full_rebuild_nothing_to_change(
    world, rollups, transactional_db
):
    full_recompute_scores(world.org_a)
    kpi = new_kpi(world, "NEW", aligned_to=rollups.division_total)
    with organization_scope(world.org_a):
        services.target_create(kpi=kpi, period=MARCH, value=Decimal(80))
        services.measurement_record(kpi=kpi, period=MARCH, value=Decimal(40), by=world.admin_a)
    assert full_rebuild_changes(world) == 0
    scores = stored_scores(world.org_a)
    # Grey in the months without data (3 months, the quarter, the year), and the objective's coverage there
    # counts the new KPI's weight (3 of 4: speed 2 and quality 1 report, the new KPI does not).
    assert [scores[("KpiScore", kpi.pk, "month", m)]["status"] for m in MONTHS] == ["grey", "grey", "red"]
    with organization_scope(world.org_a):
        goal = Objective.objects.get(name="Assemble well")
    assert scores[("ObjectiveScore", goal.pk, "month", MONTHS[0])]["coverage"] == Decimal("0.75")


def test_a_new_kpi_without_data_leaves_the_full_rebuild_nothing_to_change(world, rollups, transactional_db):
    full_recompute_scores(world.org_a)
    kpi = new_kpi(world, "EMPTY")
    assert full_rebuild_changes(world) == 0
    assert ("KpiScore", kpi.pk, "year", date(2026, 1, 1)) in stored_scores(world.org_a)


def test_an_archived_or_restored_kpi_leaves_the_full_rebuild_nothing_to_change(world, rollups, transactional_db):
    full_recompute_scores(world.org_a)
    empty = new_kpi(world, "EMPTY")
    assert full_rebuild_changes(world) == 0
    for kpi in (rollups.quality, empty):  # with values and targets, and without any data
        with organization_scope(world.org_a):
            services.kpi_archive(kpi=kpi)
        assert full_rebuild_changes(world) == 0
        assert not [key for key in stored_scores(world.org_a) if key[:2] == ("KpiScore", kpi.pk)]
        with organization_scope(world.org_a):
            services.kpi_restore(kpi=kpi)
        assert full_rebuild_changes(world) == 0
        assert ("KpiScore", kpi.pk, "month", MONTHS[0]) in stored_scores(world.org_a)


def test_a_kpi_definition_change_leaves_the_full_rebuild_nothing_to_change(world, rollups, transactional_db):
    full_recompute_scores(world.org_a)
    empty = new_kpi(world, "EMPTY")
    assert full_rebuild_changes(world) == 0
    with organization_scope(world.org_a):
        services.kpi_update(kpi=empty, frequency="quarterly")  # no data: the frequency may change
    assert full_rebuild_changes(world) == 0
    with organization_scope(world.org_a):  # a new weight changes the objective's coverage in every period
        services.kpi_update(kpi=empty, weight=Decimal(3))
    assert full_rebuild_changes(world) == 0
    with organization_scope(world.org_a):  # the roll-up it leaves loses a child, the one it joins gains one
        services.kpi_update(kpi=rollups.quality, aligned_to=None)
    assert full_rebuild_changes(world) == 0
    with organization_scope(world.org_a):  # a roll-up's baseline: it has no measurements of its own
        services.kpi_update(kpi=rollups.division_total, baseline=Decimal(10))
    assert full_rebuild_changes(world) == 0
    with organization_scope(world.org_a):  # a formula referring to the old code loses its value
        services.kpi_create(
            unit=world.division_a, name="Formula", code="F", baseline=Decimal(0), source="formula",
            formula="QLT + 1",
        )  # fmt: skip
    assert full_rebuild_changes(world) == 0
    with organization_scope(world.org_a):
        services.kpi_update(kpi=rollups.quality, code="QLT2")
    assert full_rebuild_changes(world) == 0

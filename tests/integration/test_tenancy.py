"""Tenancy: every page of the URL conf, generated from it, refuses organization B's data to a member of
organization A (404) (the API's half of the walk is test_tenancy_api.py; the walk itself is tests/tenancy_walk.py),
and queries on organization-owned models fail closed outside a scope."""

from __future__ import annotations

import pytest
from django_scopes.exceptions import ScopeError

from bsc.models import Membership, OrgUnit, Role
from bsc.tenancy import organization_scope
from tests.tenancy_walk import make_foreign_ids, url_patterns, walk


@pytest.fixture
def foreign_ids(world):
    return make_foreign_ids(world)


def test_the_walk_covers_the_organization_pages_and_api(world):
    names = {name.split(":")[-1] for name, _ in url_patterns()}
    assert {
        "org_overview", "admin_members", "admin_unit_edit", "admin_unit_delete", "personal_token_revoke",
        "strategy_map", "strategy_map_svg", "kpi_detail", "kpi_edit", "target_recalibrate", "scorecard_detail",
        "scorecard_export_csv", "data_entry_row_save", "kpi_import_batch", "coaching_session",
        "coaching_session_hold", "coaching_action_status", "coaching_session_attendance", "coaching_cadence",
        "coaching_cadence_deactivate", "coaching_session_move", "calendar_feed", "inbox", "notification_read",
    } <= names  # fmt: skip
    assert any("unit" in name and "api" in name or name.startswith("unit") for name in names), names


# Every route x every id of B's objects x five methods: about 2-3 minutes on a quiet 2-core machine, more under load.
@pytest.mark.timeout(900)
def test_every_page_answers_404_for_another_organizations_data(world, client, foreign_ids):
    assert walk(client, world, foreign_ids, api=False) > 100


def test_queries_on_organization_data_fail_closed_without_a_scope(world):
    with pytest.raises(ScopeError):
        list(OrgUnit.objects.all())
    with pytest.raises(ScopeError):
        Membership.objects.filter(role=Role.ADMIN).count()


def test_a_scope_shows_only_its_own_organizations_rows(world):
    with organization_scope(world.org_b):
        assert [unit.name for unit in OrgUnit.objects.all()] == ["Globex", "Globex Sales"]
    assert OrgUnit.objects.for_organization(world.org_a).count() == 3


def test_an_unknown_organization_slug_is_a_404(world, client):
    client.force_login(world.admin_a)
    assert client.get("/o/no-such-org/").status_code == 404
    assert client.get("/o/globex/").status_code == 404
    assert client.get("/o/acme/").status_code == 200

"""Tenancy, the API's half of the walk (tests/tenancy_walk.py): every organization-scoped API route, asked by
organization A's admin for organization B's objects, answers 404 (or 405) and never shows B's data. A module of
its own so it runs beside the pages' half (test_tenancy.py) on another pytest-xdist worker."""

from __future__ import annotations

import pytest

from tests.tenancy_walk import make_foreign_ids, walk


@pytest.fixture
def foreign_ids(world):
    return make_foreign_ids(world)


# Every route x every id of B's objects x five methods: about 2-3 minutes on a quiet 2-core machine, more under load.
@pytest.mark.timeout(900)
def test_every_api_route_answers_404_for_another_organizations_data(world, client, foreign_ids):
    assert walk(client, world, foreign_ids, api=True) > 100

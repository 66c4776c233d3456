"""API pagination: every list route, found by walking the URL resolver (a new route is covered without
touching this file), answers a bad `limit` or `offset` with a 400 naming it, and never returns more than the
documented maximum page size."""

import re
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.mixins import ListModelMixin
from rest_framework.test import APIClient

from bsc.api.pagination import MAX_LIMIT, MAX_OFFSET
from bsc.models import Membership, Role, User
from bsc.tenancy import organization_scope
from kpis import services as kpi_services

BAD_LIMITS = ["0", "-1", str(10**20), "abc", "501", "+5", "1_0", "１２", " 5", "2.5"]
BAD_OFFSETS = ["-1", str(10**20), "abc", str(MAX_OFFSET + 1), "+5", "１２", "2.5"]
LIMIT_MESSAGE = {"limit": [f"limit must be a whole number from 1 to {MAX_LIMIT}."]}
OFFSET_MESSAGE = {"offset": [f"offset must be a whole number from 0 to {MAX_OFFSET}."]}


def _routes(patterns, prefix: str = "/"):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_list_routes() -> list[str]:
    """Every API route whose GET is a list: a viewset's `list`, or a generic list view."""
    found = []
    for route, callback in _routes(get_resolver().url_patterns):
        actions = getattr(callback, "actions", None)
        view_class = getattr(callback, "cls", None)
        is_list = (
            actions.get("get") == "list" if actions is not None else issubclass(view_class or object, ListModelMixin)
        )
        if route.startswith("/api/v1/") and is_list:
            found.append(route.replace("<slug:org_slug>", "acme"))
    return sorted(found)


LIST_ROUTES = api_list_routes()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


# A list inside one item (a KPI's comments) is walked on a KPI of organization A.
ITEM_PARAMETERS = {"<str:kind>": "kpi", "<int:target_id>": None}


def _filled(route: str, world) -> str:
    if "<int:target_id>" in route:
        with organization_scope(world.org_a):
            kpi = kpi_services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
        route = route.replace("<int:target_id>", str(kpi.pk))
    return route.replace("<str:kind>", ITEM_PARAMETERS["<str:kind>"])


def test_the_walk_finds_every_list_route():
    assert "/api/v1/organizations/" in LIST_ROUTES
    assert "/api/v1/o/acme/units/" in LIST_ROUTES and "/api/v1/o/acme/cadences/" in LIST_ROUTES
    assert "/api/v1/o/acme/comments/<str:kind>/<int:target_id>/" in LIST_ROUTES
    assert len(LIST_ROUTES) == 17
    assert not [route for route in LIST_ROUTES if "<" in re.sub("|".join(map(re.escape, ITEM_PARAMETERS)), "", route)]


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_every_list_refuses_a_bad_limit_or_offset_naming_it(world, route):
    client = client_for(world.admin_a)
    route = _filled(route, world)
    for limit in BAD_LIMITS:
        response = client.get(route, {"limit": limit})
        assert (response.status_code, response.json()) == (400, LIMIT_MESSAGE), limit
    for offset in BAD_OFFSETS:
        response = client.get(route, {"offset": offset})
        assert (response.status_code, response.json()) == (400, OFFSET_MESSAGE), offset
    for limit, offset in [("1", "0"), (str(MAX_LIMIT), str(MAX_OFFSET)), ("", "")]:
        response = client.get(route, {"limit": limit, "offset": offset})
        assert response.status_code == 200, (limit, offset)
        assert len(response.json()["results"]) <= int(limit or 100)


def test_a_page_holds_at_most_the_maximum_and_links_to_the_rest(world):
    with organization_scope(world.org_a):
        users = User.objects.bulk_create(User(email=f"reader{n}@acme.example.com") for n in range(MAX_LIMIT))
        Membership.objects.bulk_create(Membership(organization=world.org_a, user=u, role=Role.VIEWER) for u in users)
    client = client_for(world.admin_a)

    default = client.get("/api/v1/o/acme/members/").json()
    largest = client.get("/api/v1/o/acme/members/", {"limit": MAX_LIMIT}).json()
    rest = client.get("/api/v1/o/acme/members/", {"limit": MAX_LIMIT, "offset": MAX_LIMIT}).json()

    assert (default["count"], len(default["results"])) == (MAX_LIMIT + 2, 100)
    assert len(largest["results"]) == MAX_LIMIT
    assert largest["next"] == f"http://testserver/api/v1/o/acme/members/?limit={MAX_LIMIT}&offset={MAX_LIMIT}"
    assert (len(rest["results"]), rest["next"]) == (2, None)


def test_the_schema_states_the_page_size_bounds(db):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/o/{org_slug}/units/"]["get"]["parameters"]}

    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}
    assert parameters["offset"]["schema"] == {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
    assert parameters["limit"]["description"] == "How many results per page: 1 to 500, 100 when left out."

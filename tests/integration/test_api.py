"""The JSON API under /api/v1/: organization scoping, the permission matrix, validation, auth, schema and docs."""

import re

import pytest
from rest_framework.test import APIClient

from bsc import services
from bsc.models import OrgUnit, Role
from tests import factories

NOT_FOUND = {"detail": "No OrgUnit matches the given query."}
NO_SUCH_ORGANIZATION = {"detail": "No such organization."}
MAY_NOT_EDIT_UNITS = "does not allow this: units, strategy map, KPI definitions and targets."
NO_PARENT = "Choose a parent unit: the organization already has a top-level unit."


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def units_of(organization) -> list[tuple]:
    """What a user would see of the unit tree: names, parents, heads and paths."""
    return list(
        OrgUnit.objects.for_organization(organization)
        .order_by("path")
        .values_list("name", "parent__name", "head__email", "path")
    )


def unit_json(unit: OrgUnit) -> dict:
    unit.refresh_from_db()
    return {
        "id": unit.pk,
        "name": unit.name,
        "parent": unit.parent_id,
        "head": unit.head_id,
        "depth": unit.depth,
        "path": unit.path,
    }


def page(results: list) -> dict:
    return {"count": len(results), "next": None, "previous": None, "results": results}


# --- Organizations and members ---------------------------------------------------------------------


def test_it_lists_only_the_callers_organizations(world):
    factories.add_member(world.org_b, Role.VIEWER, user=world.viewer_a)

    assert client_for(world.admin_a).get("/api/v1/organizations/").json() == page(
        [{"slug": "acme", "name": "Acme Manufacturing", "role": "admin"}]
    )
    assert client_for(world.viewer_a).get("/api/v1/organizations/").json() == page(
        [
            {"slug": "acme", "name": "Acme Manufacturing", "role": "viewer"},
            {"slug": "globex", "name": "Globex", "role": "viewer"},
        ]
    )


def test_it_shows_the_organization_settings(world):
    response = client_for(world.viewer_a).get("/api/v1/o/acme/")

    assert response.status_code == 200
    assert response.json() == {
        "slug": "acme",
        "name": "Acme Manufacturing",
        "time_zone": "UTC",
        "fiscal_year_start_month": 1,
        "green_threshold": "0.900",
        "amber_threshold": "0.600",
        "red_requires_comment": True,
        "amber_requires_cause": False,
    }


@pytest.mark.parametrize("path", ["/api/v1/o/nope/", "/api/v1/o/globex/", "/api/v1/o/globex/units/"])
def test_an_unknown_or_foreign_organization_is_not_found(world, path):
    response = client_for(world.admin_a).get(path)

    assert response.status_code == 404
    assert response.json() == NO_SUCH_ORGANIZATION


def test_it_lists_members_with_their_roles_and_units(world, member_of_role):
    head = member_of_role(Role.DEPARTMENT_HEAD)
    client = client_for(world.viewer_a)

    response = client.get("/api/v1/o/acme/members/")

    assert response.status_code == 200
    admin, head_membership, viewer = (world.membership(u) for u in (world.admin_a, head, world.viewer_a))
    assert response.json() == page(
        [
            {
                "id": admin.pk,
                "user": world.admin_a.pk,
                "email": "admin@acme.example.com",
                "full_name": "Admin of acme",
                "role": "admin",
                "units": [],
            },
            {
                "id": head_membership.pk,
                "user": head.pk,
                "email": head.email,
                "full_name": "Department_Head",
                "role": "department_head",
                "units": [world.division_a.pk],
            },
            {
                "id": viewer.pk,
                "user": world.viewer_a.pk,
                "email": world.viewer_a.email,
                "full_name": "Viewer",
                "role": "viewer",
                "units": [],
            },
        ]
    )
    assert client.get(f"/api/v1/o/acme/members/{viewer.pk}/").json()["email"] == world.viewer_a.email
    member_b = world.membership(world.member_b, world.org_b)
    assert client.get(f"/api/v1/o/acme/members/{member_b.pk}/").status_code == 404


# --- Units: the trio (works, other organization 404, role without write access 403) ----------------


def test_an_admin_lists_creates_renames_moves_and_deletes_units(world):
    client = client_for(world.admin_a)
    company, division, department = world.company_a, world.division_a, world.department_a

    assert client.get("/api/v1/o/acme/units/").json() == page(
        [unit_json(company), unit_json(division), unit_json(department)]
    )
    assert client.get(f"/api/v1/o/acme/units/{division.pk}/").json() == {
        "id": division.pk,
        "name": "Operations",
        "parent": company.pk,
        "head": None,
        "depth": 1,
        "path": f"/{company.pk}/{division.pk}/",
    }

    created = client.post("/api/v1/o/acme/units/", {"name": " Quality ", "parent": division.pk}, format="json")
    assert created.status_code == 201
    quality = OrgUnit.objects.for_organization(world.org_a).get(name="Quality")
    assert created.json() == {
        "id": quality.pk,
        "name": "Quality",
        "parent": division.pk,
        "head": None,
        "depth": 2,
        "path": f"/{company.pk}/{division.pk}/{quality.pk}/",
    }

    renamed = client.patch(
        f"/api/v1/o/acme/units/{quality.pk}/", {"name": "Quality Assurance", "head": world.viewer_a.pk}, format="json"
    )
    assert renamed.status_code == 200
    assert renamed.json() == {
        "id": quality.pk,
        "name": "Quality Assurance",
        "parent": division.pk,
        "head": world.viewer_a.pk,
        "depth": 2,
        "path": f"/{company.pk}/{division.pk}/{quality.pk}/",
    }

    moved = client.put(
        f"/api/v1/o/acme/units/{quality.pk}/",
        {"name": "QA", "parent": department.pk, "head": None},
        format="json",
    )
    assert moved.status_code == 200
    assert moved.json() == {
        "id": quality.pk,
        "name": "QA",
        "parent": department.pk,
        "head": None,
        "depth": 3,
        "path": f"/{company.pk}/{division.pk}/{department.pk}/{quality.pk}/",
    }

    deleted = client.delete(f"/api/v1/o/acme/units/{quality.pk}/")
    assert deleted.status_code == 204
    assert units_of(world.org_a) == [
        ("Acme Manufacturing", None, None, f"/{company.pk}/"),
        ("Operations", "Acme Manufacturing", None, f"/{company.pk}/{division.pk}/"),
        ("Assembly", "Operations", None, f"/{company.pk}/{division.pk}/{department.pk}/"),
    ]


def test_moving_a_unit_moves_its_subtree(world):
    client = client_for(world.admin_a)
    sales = factories.make_unit(world.org_a, "Sales")

    response = client.patch(f"/api/v1/o/acme/units/{world.division_a.pk}/", {"parent": sales.pk}, format="json")

    assert response.status_code == 200
    company, division, department = world.company_a.pk, world.division_a.pk, world.department_a.pk
    assert units_of(world.org_a) == [
        ("Acme Manufacturing", None, None, f"/{company}/"),
        ("Sales", "Acme Manufacturing", None, f"/{company}/{sales.pk}/"),
        ("Operations", "Sales", None, f"/{company}/{sales.pk}/{division}/"),
        ("Assembly", "Operations", None, f"/{company}/{sales.pk}/{division}/{department}/"),
    ]


def test_an_executive_can_create_a_unit(world, member_of_role):
    client = client_for(member_of_role(Role.EXECUTIVE))

    response = client.post("/api/v1/o/acme/units/", {"name": "Finance", "parent": world.company_a.pk}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "Finance"
    assert ("Finance", "Acme Manufacturing", None, f"/{world.company_a.pk}/{response.json()['id']}/") in units_of(
        world.org_a
    )


def test_it_does_not_show_or_change_another_organizations_unit(world):
    client = client_for(world.admin_a)
    url = f"/api/v1/o/acme/units/{world.unit_b.pk}/"
    before = units_of(world.org_b)

    assert client.get(url).status_code == 404
    assert client.patch(url, {"name": "Hacked"}, format="json").json() == NOT_FOUND
    assert client.put(url, {"name": "Hacked", "parent": world.company_a.pk}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    assert client.delete(f"/api/v1/o/globex/units/{world.unit_b.pk}/").json() == NO_SUCH_ORGANIZATION
    assert units_of(world.org_b) == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COACH, Role.DEPARTMENT_HEAD])
def test_a_role_without_write_access_gets_403_and_nothing_changes(world, member_of_role, role):
    client = client_for(member_of_role(role))
    url = f"/api/v1/o/acme/units/{world.department_a.pk}/"
    before = units_of(world.org_a)

    responses = [
        client.post("/api/v1/o/acme/units/", {"name": "New", "parent": world.company_a.pk}, format="json"),
        client.patch(url, {"name": "Renamed"}, format="json"),
        client.put(url, {"name": "Renamed", "parent": world.company_a.pk}, format="json"),
        client.delete(url),
    ]

    label = Role(role).label.lower()
    assert [(r.status_code, r.json()) for r in responses] == [
        (403, {"detail": f"Your role ({label}) {MAY_NOT_EDIT_UNITS}"}),
    ] * 4
    assert units_of(world.org_a) == before
    assert client.get(url).status_code == 200  # reading is for everyone


# --- Bad input ---------------------------------------------------------------------------------------


def test_malformed_payloads_get_400_naming_the_field(world):
    client = client_for(world.admin_a)
    division = world.division_a.pk
    before = units_of(world.org_a)
    cases = [
        ({}, {"name": ["This field is required."], "parent": [NO_PARENT]}),
        ({"name": "", "parent": division}, {"name": ["This field may not be blank."]}),
        ({"name": "x" * 121, "parent": division}, {"name": ["Ensure this field has no more than 120 characters."]}),
        ({"name": "X", "parent": "abc"}, {"parent": ["A valid integer is required."]}),
        ({"name": "X", "parent": 1.5}, {"parent": ["A valid integer is required."]}),
        ({"name": "X", "parent": [division]}, {"parent": ["A valid integer is required."]}),
        ({"name": "X", "parent": 10**30}, {"parent": [f'Invalid pk "{10**30}" - object does not exist.']}),
        (
            {"name": "X", "parent": world.unit_b.pk},
            {"parent": [f'Invalid pk "{world.unit_b.pk}" - object does not exist.']},
        ),
        (
            {"name": "X", "parent": division, "head": world.member_b.pk},
            {"head": [f'Invalid pk "{world.member_b.pk}" - object does not exist.']},
        ),
        ({"name": "X"}, {"parent": [NO_PARENT]}),
        (
            {"name": "Assembly", "parent": division},
            {"non_field_errors": ["A unit with this name already exists under the same parent."]},
        ),
        ([], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ]

    results = [client.post("/api/v1/o/acme/units/", payload, format="json") for payload, _ in cases]

    assert [(r.status_code, r.json()) for r in results] == [(400, errors) for _, errors in cases]
    assert units_of(world.org_a) == before


def test_invalid_moves_and_edits_get_400_and_change_nothing(world):
    client = client_for(world.admin_a)
    company, division, department = world.company_a, world.division_a, world.department_a
    before = units_of(world.org_a)
    cases = [
        (
            division,
            {"parent": department.pk},
            {"parent": ["A unit cannot be moved under itself or one of its own sub-units."]},
        ),
        (division, {"parent": None}, {"parent": ["Only the top-level unit has no parent; choose a parent unit."]}),
        (company, {"parent": division.pk}, {"parent": ["The top-level unit cannot be moved."]}),
        (
            department,
            {"parent": world.unit_b.pk},
            {"parent": [f'Invalid pk "{world.unit_b.pk}" - object does not exist.']},
        ),
        (
            department,
            {"head": world.member_b.pk},
            {"head": [f'Invalid pk "{world.member_b.pk}" - object does not exist.']},
        ),
        (department, {"head": "me"}, {"head": ["A valid integer is required."]}),
        # the rename succeeds alone, but the move in the same request fails: neither is kept
        (
            department,
            {"name": "Renamed", "parent": department.pk},
            {"parent": ["A unit cannot be moved under itself or one of its own sub-units."]},
        ),
    ]

    results = [client.patch(f"/api/v1/o/acme/units/{unit.pk}/", payload, format="json") for unit, payload, _ in cases]

    assert [(r.status_code, r.json()) for r in results] == [(400, errors) for _, _, errors in cases]
    assert units_of(world.org_a) == before


def test_deleting_a_unit_with_sub_units_is_refused_with_the_reason(world):
    response = client_for(world.admin_a).delete(f"/api/v1/o/acme/units/{world.division_a.pk}/")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["“Operations” cannot be deleted: it has 1 sub-unit; move or delete them first."]
    }
    assert len(units_of(world.org_a)) == 3


# --- Authentication ----------------------------------------------------------------------------------


def test_a_personal_token_authenticates_until_it_is_revoked(world):
    token, key = services.personal_token_create(user=world.admin_a, name="CI")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert client.get("/api/v1/o/acme/units/").json()["count"] == 3
    created = client.post("/api/v1/o/acme/units/", {"name": "Finance", "parent": world.company_a.pk}, format="json")
    assert created.status_code == 201  # no CSRF token needed with a bearer token

    services.personal_token_revoke(token=token)
    response = client.get("/api/v1/o/acme/units/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token."}
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer bsc_garbage", "Bearer", "Bearer a b"])
def test_a_bad_token_gets_401_without_data(world, header):
    response = APIClient(HTTP_AUTHORIZATION=header).get("/api/v1/o/acme/units/")

    assert response.status_code == 401
    assert list(response.json()) == ["detail"]


@pytest.mark.parametrize("path", ["/api/v1/organizations/", "/api/v1/o/acme/", "/api/v1/o/acme/units/"])
def test_an_anonymous_request_gets_401_without_data(world, path):
    response = APIClient().get(path)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_session_write_needs_the_csrf_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.admin_a)

    payload = {"name": "Finance", "parent": world.company_a.pk}

    refused = client.post("/api/v1/o/acme/units/", payload, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF Failed: CSRF cookie not set."}
    assert len(units_of(world.org_a)) == 3

    client.cookies["csrftoken"] = secret = "s" * 32
    accepted = client.post("/api/v1/o/acme/units/", payload, format="json", HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 201


# --- Queries, schema and docs ------------------------------------------------------------------------


def test_the_unit_list_query_count_does_not_grow_with_units(world, django_assert_num_queries):
    client = client_for(world.admin_a)
    client.get("/api/v1/o/acme/units/")  # warm up the session
    for index in range(5):
        factories.make_unit(world.org_a, f"Team {index}", parent=world.division_a)

    with django_assert_num_queries(5):  # session, user, membership, count, rows
        response = client.get("/api/v1/o/acme/units/")

    assert response.json()["count"] == 8


def test_the_schema_is_openapi_3_with_the_units_path(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]["/api/v1/o/{org_slug}/units/{id}/"]) == {"get", "put", "patch", "delete"}
    assert "/api/v1/organizations/" in schema["paths"]


def test_the_docs_page_loads_with_local_static_files_only(db):
    client = APIClient()
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page references no assets"
    # Swagger UI's start-up script comes from the page's own URL (no inline script under the CSP).
    assert [asset for asset in assets if not asset.startswith("/static/")] == ["/api/docs/?script="]
    assert "//" not in "".join(asset.removeprefix("/static/") for asset in assets)
    assert [client.get(asset).status_code for asset in assets] == [200] * len(assets)
    assert client.get("/api/docs/?script=")["Content-Type"].startswith("application/javascript")

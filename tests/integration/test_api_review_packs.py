"""Review packs in the API: POST starts one (202 with its id and progress; again while it is being made, the same
pack), GET reads its progress, the files download once ready; bad input is a 400 naming the field; another
organization's unit or pack is a 404; department heads and viewers get 403."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import review_packs
from coaching.models import ReviewPack
from tests import factories
from tests.integration.test_review_packs import pdf_pages
from tests.review_pack_data import acme_review_pack_world

API = "/api/v1/o/acme/review-packs/"


@pytest.fixture
def pack_world(world):
    return acme_review_pack_world(world)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_it_starts_a_pack_reads_its_progress_and_downloads_it(world, pack_world):
    client = client_for(world.admin_a)
    started = client.post(API, {"unit": world.company_a.pk, "kind": "month", "period": "2026-10"}, format="json")
    assert started.status_code == 202, started.json()
    body = started.json()
    assert {k: body[k] for k in ("kind", "period", "label", "status", "progress", "pdf", "xlsx")} == {
        "kind": "month", "period": "2026-10", "label": "Oct 2026", "status": "queued", "progress": 0, "pdf": None,
        "xlsx": None,
    }  # fmt: skip
    assert body["unit"] == {"id": world.company_a.pk, "name": "Acme Manufacturing"}
    assert started["Location"].endswith(f"{API}{body['id']}/")
    again = client.post(API, {"unit": world.company_a.pk, "period": "2026-10"}, format="json")
    assert again.status_code == 202 and again.json()["id"] == body["id"]
    assert client.get(f"{API}{body['id']}/pdf/").status_code == 404  # not ready
    with organization_scope(world.org_a):
        review_packs.review_pack_build(organization=world.org_a, pack_id=body["id"])
    done = client.get(f"{API}{body['id']}/").json()
    assert (done["status"], done["progress"], done["error"]) == ("done", 100, "")
    assert done["pdf"].endswith(f"{API}{body['id']}/pdf/") and done["xlsx"].endswith(f"{API}{body['id']}/xlsx/")
    pdf = client.get(f"{API}{body['id']}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf_pages(pdf.content) == done["pages"] >= 6
    xlsx = client.get(f"{API}{body['id']}/xlsx/")
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert [p["id"] for p in client.get(API).json()["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"period": "2030-01"}, "period", "No scores are stored for Jan 2030: the organization's data runs from"),
        ({"period": "2026-11", "kind": "quarter"}, "period", "2026-11 does not start a fiscal quarter"),
        ({"period": "26-10"}, "period", "“26-10” is not a period"),
        ({"kind": "week"}, "kind", '"week" is not a valid choice.'),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_made(world, pack_world, body, field, message):
    response = client_for(world.admin_a).post(
        API, {"unit": world.company_a.pk, "kind": "month", "period": "2026-10", **body}, format="json"
    )
    assert response.status_code == 400
    assert response.json()[field][0].startswith(message), response.json()
    with organization_scope(world.org_a):
        assert not ReviewPack.objects.exists()


def test_a_unit_without_a_map_is_a_400(world, pack_world):
    lone = factories.make_unit(world.org_a, "Night shift", parent=world.company_a)
    response = client_for(world.admin_a).post(API, {"unit": lone.pk, "period": "2026-10"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "unit": ["Night shift has no strategy map yet: add its objectives before asking for a review pack."]
    }


def test_another_organizations_unit_and_pack_are_404s(world, pack_world):
    client = client_for(world.admin_a)
    response = client.post(API, {"unit": world.unit_b.pk, "period": "2026-10"}, format="json")
    assert response.status_code == 404 and response.json() == {
        "detail": f"No unit {world.unit_b.pk} in this organization."
    }
    pack = client.post(API, {"unit": world.company_a.pk, "period": "2026-10"}, format="json").json()
    theirs = client_for(world.member_b)
    assert theirs.get(f"/api/v1/o/globex/review-packs/{pack['id']}/").status_code == 404
    assert theirs.get(f"/api/v1/o/globex/review-packs/{pack['id']}/pdf/").status_code == 404
    assert theirs.get("/api/v1/o/globex/review-packs/").json()["results"] == []


@pytest.mark.parametrize("role", [Role.DEPARTMENT_HEAD, Role.VIEWER])
def test_department_heads_and_viewers_get_403(world, pack_world, member_of_role, role):
    pack = client_for(world.admin_a).post(API, {"unit": world.company_a.pk, "period": "2026-10"}, format="json")
    client = client_for(member_of_role(role))
    refused = client.post(API, {"unit": world.company_a.pk, "period": "2026-10"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"].endswith("does not allow this: request and download review packs.")
    assert client.get(f"{API}{pack.json()['id']}/").status_code == 403
    assert client.get(API).status_code == 403


def test_a_coach_may(world, pack_world):
    coach = factories.add_member(world.org_a, Role.COACH).user
    response = client_for(coach).post(API, {"unit": world.company_a.pk, "period": "2026-10"}, format="json")
    assert response.status_code == 202

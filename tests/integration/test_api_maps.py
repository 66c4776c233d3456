"""The strategy-map API: scorecards, perspectives, objectives, cause-effect links and initiatives.

Every mutating endpoint gets the trio (it works with exact JSON; another organization's id is a 404 and
changes nothing; a role without write access gets 403 and changes nothing), plus the map's rules (stale
versions, self-links, duplicates, cycles, cross-map links, alignment, names) as 400s and 409s.
"""

import json
from datetime import date

import pytest
from rest_framework.test import APIClient

from bsc import strategy
from bsc.models import CauseEffectLink, Initiative, Objective, Perspective, Role, Scorecard
from bsc.selectors import strategy_map
from bsc.tenancy import organization_scope

API = "/api/v1/o/acme/"
STALE = "Someone else changed this map since you loaded it; the map has been refreshed, please redo your change."
MAY_NOT_EDIT = "does not allow this: units, strategy map, KPI definitions and targets."


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def page(results: list) -> dict:
    return {"count": len(results), "next": None, "previous": None, "results": results}


def band(unit, name="Customer") -> Perspective:
    return Perspective.objects.for_organization(unit.organization_id).get(scorecard__unit=unit, name=name)


def scorecard_of(unit) -> Scorecard:
    return Scorecard.objects.for_organization(unit.organization_id).select_related("unit").get(unit=unit)


def perspectives_of(scorecard) -> list[Perspective]:
    return list(Perspective.objects.for_organization(scorecard.organization_id).filter(scorecard=scorecard))


def version_of(unit) -> int:
    return scorecard_of(unit).version


def map_rows(organization) -> dict:
    """Everything a user could see of an organization's maps, to prove that a refused request changed nothing."""
    with organization_scope(organization):
        return {
            "versions": list(Scorecard.objects.order_by("id").values_list("unit__name", "version")),
            "perspectives": list(
                Perspective.objects.order_by("id").values_list("scorecard_id", "name", "order", "weight")
            ),
            "objectives": list(
                Objective.objects.order_by("id").values_list(
                    "perspective_id", "name", "description", "owner_id", "weight", "x", "y", "aligned_to_id"
                )
            ),
            "links": list(CauseEffectLink.objects.order_by("id").values_list("source_id", "target_id")),
            "initiatives": list(
                Initiative.objects.order_by("id").values_list("objective_id", "name", "owner_id", "status", "progress")
            ),
        }


@pytest.fixture
def acme(world):
    """The company map of organization A: two objectives, one arrow, one initiative (version 4 after them)."""
    with organization_scope(world.org_a):
        grow = strategy.objective_create(perspective=band(world.company_a, "Financial"), name="Grow revenue", x=100)
        delight = strategy.objective_create(perspective=band(world.company_a), name="Delight customers", x=300, y=40)
        link = strategy.link_create(source=delight, target=grow)
        initiative = strategy.initiative_create(objective=delight, name="Customer survey", owner=world.viewer_a)
    return {"grow": grow, "delight": delight, "link": link, "initiative": initiative}


@pytest.fixture
def globex(world):
    """Organization B's map, whose ids organization A must never reach."""
    with organization_scope(world.org_b):
        perspective = band(world.unit_b, "Financial")
        a = strategy.objective_create(perspective=perspective, name="Globex profit")
        b = strategy.objective_create(perspective=perspective, name="Globex growth")
        link = strategy.link_create(source=a, target=b)
        initiative = strategy.initiative_create(objective=a, name="Globex plan")
    return {
        "scorecard": scorecard_of(world.unit_b),
        "perspective": perspective,
        "objective": a,
        "other": b,
        "link": link,
        "initiative": initiative,
    }


# --- Reading -----------------------------------------------------------------------------------------


def test_it_lists_the_scorecards_and_shows_one_whole_map(world, acme):
    client = client_for(world.viewer_a)
    company, division, department = (scorecard_of(u) for u in (world.company_a, world.division_a, world.department_a))

    assert client.get(f"{API}scorecards/").json() == page(
        [
            {"id": company.pk, "unit": world.company_a.pk, "unit_name": "Acme Manufacturing", "version": 4},
            {"id": division.pk, "unit": world.division_a.pk, "unit_name": "Operations", "version": 1},
            {"id": department.pk, "unit": world.department_a.pk, "unit_name": "Assembly", "version": 1},
        ]
    )
    assert client.get(f"{API}scorecards/?unit={world.division_a.pk}").json()["count"] == 1

    response = client.get(f"{API}scorecards/{company.pk}/")

    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(strategy_map(scorecard=company)))
    assert response.json()["objectives"][0] == {
        "id": acme["grow"].pk,
        "perspective": band(world.company_a, "Financial").pk,
        "name": "Grow revenue",
        "description": "",
        "owner": None,
        "owner_name": "",
        "weight": "1.00",
        "x": 100,
        "y": 0,
        "aligned_to": None,
        "aligned_to_name": "",
        "status": "grey",
        "score": None,
        "score_text": "",
    }
    assert response.json()["links"] == [
        {"id": acme["link"].pk, "source": acme["delight"].pk, "target": acme["grow"].pk}
    ]


def test_lists_filter_by_scorecard(world, acme, globex):
    client = client_for(world.viewer_a)
    company = scorecard_of(world.company_a).pk
    division = scorecard_of(world.division_a).pk

    objectives = client.get(f"{API}objectives/?scorecard={company}").json()
    assert [o["name"] for o in objectives["results"]] == ["Grow revenue", "Delight customers"]
    assert client.get(f"{API}objectives/?scorecard={division}").json() == page([])
    assert client.get(f"{API}objectives/?scorecard={globex['scorecard'].pk}").json() == page([])
    assert [p["name"] for p in client.get(f"{API}perspectives/?scorecard={company}").json()["results"]] == [
        "Financial",
        "Customer",
        "Internal Process",
        "Learning & Growth",
    ]
    assert client.get(f"{API}links/?scorecard={company}").json() == page(
        [
            {
                "id": acme["link"].pk,
                "scorecard": company,
                "source": acme["delight"].pk,
                "target": acme["grow"].pk,
                "version": 4,
            }
        ]
    )
    assert [i["name"] for i in client.get(f"{API}initiatives/?objective={acme['delight'].pk}").json()["results"]] == [
        "Customer survey"
    ]
    bad = client.get(f"{API}objectives/?scorecard=abc")
    assert (bad.status_code, bad.json()) == (400, {"scorecard": ["A valid integer is required."]})


def test_an_objective_shows_its_initiatives_and_line_of_sight(world, acme):
    with organization_scope(world.org_a):
        division_goal = strategy.objective_create(
            perspective=band(world.division_a), name="Faster delivery", aligned_to=acme["delight"]
        )
        team_goal = strategy.objective_create(
            perspective=band(world.department_a), name="Zero defects", aligned_to=division_goal
        )
    client = client_for(world.viewer_a)

    response = client.get(f"{API}objectives/{division_goal.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["aligned_to"] == acme["delight"].pk
    assert body["aligned_to_name"] == "Delight customers"
    assert body["initiatives"] == []
    assert body["line_of_sight"] == {
        "up": [
            {
                "id": acme["delight"].pk,
                "name": "Delight customers",
                "unit": "Acme Manufacturing",
                "unit_id": world.company_a.pk,
            }
        ],
        "below": [{"id": team_goal.pk, "name": "Zero defects", "unit": "Assembly", "unit_id": world.department_a.pk}],
    }
    assert client.get(f"{API}objectives/{acme['delight'].pk}/").json()["initiatives"] == [
        {
            "id": acme["initiative"].pk,
            "objective": acme["delight"].pk,
            "name": "Customer survey",
            "owner": world.viewer_a.pk,
            "owner_name": "Viewer",
            "start": None,
            "end": None,
            "status": "planned",
            "progress": 0,
            "budget": None,
        }
    ]


def test_another_organizations_map_is_not_shown(world, globex):
    client = client_for(world.admin_a)

    urls = [
        f"{API}scorecards/{globex['scorecard'].pk}/",
        f"{API}perspectives/{globex['perspective'].pk}/",
        f"{API}objectives/{globex['objective'].pk}/",
        f"{API}links/{globex['link'].pk}/",
        f"{API}initiatives/{globex['initiative'].pk}/",
    ]

    assert [client.get(url).status_code for url in urls] == [404] * 5
    assert "Globex" not in client.get(f"{API}objectives/").content.decode()


def test_the_map_query_count_does_not_grow_with_objectives(world, acme, django_assert_max_num_queries):
    client = client_for(world.admin_a)
    company = scorecard_of(world.company_a)
    client.get(f"{API}objectives/")  # warm up the session
    with organization_scope(world.org_a):
        bands = list(perspectives_of(company))
        for index in range(12):  # three more cards in each band, side by side (cards may not cover each other)
            strategy.objective_create(
                perspective=bands[index % 4],
                name=f"Objective {index}",
                owner=world.viewer_a,
                x=520 + index // 4 * 210,
                y=0,
            )

    with django_assert_max_num_queries(6):  # session, user, membership, count, rows
        assert client.get(f"{API}objectives/").json()["count"] == 14
    with django_assert_max_num_queries(8):  # session, user, membership, scorecard, bands, cards, arrows, statuses
        assert len(client.get(f"{API}scorecards/{company.pk}/").json()["objectives"]) == 14


# --- Scorecards: copy the parent's map, reorder the bands ----------------------------------------------


def test_a_department_map_starts_as_a_copy_of_its_parents(world, acme):
    with organization_scope(world.org_a):
        strategy.scorecard_copy_parent_structure(scorecard=scorecard_of(world.division_a))
    division_goals = {
        o.name: o for o in Objective.objects.for_organization(world.org_a).filter(scorecard__unit=world.division_a)
    }
    department = scorecard_of(world.department_a)

    response = client_for(world.admin_a).post(
        f"{API}scorecards/{department.pk}/copy-parent/", {"version": 1}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2
    assert sorted((o["name"], o["aligned_to"], o["x"]) for o in body["objectives"]) == [
        ("Delight customers", division_goals["Delight customers"].pk, 300),
        ("Grow revenue", division_goals["Grow revenue"].pk, 100),
    ]
    names = {o["id"]: o["name"] for o in body["objectives"]}
    assert [(names[link["source"]], names[link["target"]]) for link in body["links"]] == [
        ("Delight customers", "Grow revenue")
    ]

    again = client_for(world.admin_a).post(
        f"{API}scorecards/{department.pk}/copy-parent/", {"version": 2}, format="json"
    )
    assert again.status_code == 400
    assert again.json() == {
        "non_field_errors": ["This map already has objectives; only an empty map can start as a copy."]
    }


def test_the_top_level_map_has_no_parent_to_copy(world):
    company = scorecard_of(world.company_a)

    response = client_for(world.admin_a).post(
        f"{API}scorecards/{company.pk}/copy-parent/", {"version": 1}, format="json"
    )

    assert (response.status_code, response.json()) == (
        400,
        {"non_field_errors": ["The top-level unit has no parent map to copy."]},
    )


def test_the_bands_are_reordered(world):
    company = scorecard_of(world.company_a)
    financial, customer, process, learning = (
        band(world.company_a, name) for name in ("Financial", "Customer", "Internal Process", "Learning & Growth")
    )
    client = client_for(world.admin_a)

    response = client.post(
        f"{API}scorecards/{company.pk}/reorder-perspectives/",
        {"order": [customer.pk, financial.pk, process.pk, learning.pk], "version": 1},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert [(p["name"], p["order"]) for p in response.json()["perspectives"]] == [
        ("Customer", 0),
        ("Financial", 1),
        ("Internal Process", 2),
        ("Learning & Growth", 3),
    ]
    partial = client.post(
        f"{API}scorecards/{company.pk}/reorder-perspectives/", {"order": [customer.pk], "version": 2}, format="json"
    )
    assert (partial.status_code, partial.json()) == (
        400,
        {"order": ["List every perspective of this map exactly once."]},
    )
    assert version_of(world.company_a) == 2


# --- Perspectives ------------------------------------------------------------------------------------


def test_an_admin_adds_renames_reweights_and_removes_a_perspective(world):
    client = client_for(world.admin_a)
    company = scorecard_of(world.company_a)

    created = client.post(
        f"{API}perspectives/",
        {"scorecard": company.pk, "name": " Sustainability ", "weight": "0.5", "version": 1},
        format="json",
    )
    assert created.status_code == 201
    sustainability = band(world.company_a, "Sustainability")
    assert created.json() == {
        "id": sustainability.pk,
        "scorecard": company.pk,
        "name": "Sustainability",
        "order": 4,
        "weight": "0.50",
        "version": 2,
    }

    renamed = client.patch(
        f"{API}perspectives/{sustainability.pk}/", {"name": "Planet", "weight": "2", "version": 2}, format="json"
    )
    assert renamed.status_code == 200
    assert renamed.json() == {
        "id": sustainability.pk,
        "scorecard": company.pk,
        "name": "Planet",
        "order": 4,
        "weight": "2.00",
        "version": 3,
    }

    deleted = client.delete(f"{API}perspectives/{sustainability.pk}/?version=3")
    assert (deleted.status_code, deleted.json()) == (200, {"version": 4})
    assert [p.name for p in perspectives_of(company)] == [
        "Financial",
        "Customer",
        "Internal Process",
        "Learning & Growth",
    ]


def test_perspective_rules_are_refused_with_the_reason(world, acme):
    client = client_for(world.admin_a)
    company = scorecard_of(world.company_a)
    customer = band(world.company_a)
    before = map_rows(world.org_a)
    cases = [
        (
            client.post(
                f"{API}perspectives/", {"scorecard": company.pk, "name": "Customer", "version": 4}, format="json"
            ),
            {"non_field_errors": ["This scorecard already has a perspective with that name."]},
        ),
        (
            client.post(f"{API}perspectives/", {"scorecard": company.pk, "name": "", "version": 4}, format="json"),
            {"name": ["This field may not be blank."]},
        ),
        (
            client.post(
                f"{API}perspectives/", {"scorecard": company.pk, "name": "x" * 81, "version": 4}, format="json"
            ),
            {"name": ["Ensure this field has no more than 80 characters."]},
        ),
        (
            client.post(f"{API}perspectives/", {"scorecard": company.pk, "name": "New"}, format="json"),
            {"version": ["This field is required."]},
        ),
        (
            client.patch(f"{API}perspectives/{customer.pk}/", {"weight": "-1", "version": 4}, format="json"),
            {"weight": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            client.patch(
                f"{API}perspectives/{customer.pk}/",
                {"scorecard": scorecard_of(world.division_a).pk, "version": 4},
                format="json",
            ),
            {"scorecard": ["A perspective stays on its map; create one on the other map instead."]},
        ),
        (
            client.delete(f"{API}perspectives/{customer.pk}/?version=4"),
            {"non_field_errors": ["“Customer” still holds 1 objective; move or delete them first."]},
        ),
        (client.delete(f"{API}perspectives/{customer.pk}/"), {"version": ["This field is required."]}),
    ]

    assert [(r.status_code, r.json()) for r, _ in cases] == [(400, errors) for _, errors in cases]
    assert map_rows(world.org_a) == before


# --- Objectives --------------------------------------------------------------------------------------


def test_an_executive_adds_renames_moves_aligns_and_deletes_an_objective(world, member_of_role, acme):
    executive = member_of_role(Role.EXECUTIVE)
    client = client_for(executive)
    division = scorecard_of(world.division_a)
    customer, financial = band(world.division_a), band(world.division_a, "Financial")

    created = client.post(
        f"{API}objectives/",
        {"perspective": customer.pk, "name": " Faster delivery ", "x": 40, "y": 20, "version": 1},
        format="json",
    )
    assert created.status_code == 201
    objective = Objective.objects.for_organization(world.org_a).get(name="Faster delivery")
    assert created.json() == {
        "id": objective.pk,
        "scorecard": division.pk,
        "perspective": customer.pk,
        "name": "Faster delivery",
        "description": "",
        "owner": None,
        "owner_name": "",
        "weight": "1.00",
        "x": 40,
        "y": 20,
        "aligned_to": None,
        "aligned_to_name": "",
        "version": 2,
    }

    changed = client.patch(
        f"{API}objectives/{objective.pk}/",
        {
            "name": "Deliver on time",
            "perspective": financial.pk,
            "x": 1000,
            "y": 90,
            "owner": executive.pk,
            "weight": "3",
            "description": "Every order on the promised day.",
            "aligned_to": acme["delight"].pk,
            "version": 2,
        },
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json() == {
        "id": objective.pk,
        "scorecard": division.pk,
        "perspective": financial.pk,
        "name": "Deliver on time",
        "description": "Every order on the promised day.",
        "owner": executive.pk,
        "owner_name": "Executive",
        "weight": "3.00",
        "x": 1000,
        "y": 90,
        "aligned_to": acme["delight"].pk,
        "aligned_to_name": "Delight customers",
        "version": 3,
    }

    unaligned = client.patch(
        f"{API}objectives/{objective.pk}/", {"aligned_to": None, "owner": None, "version": 3}, format="json"
    )
    assert (unaligned.json()["aligned_to"], unaligned.json()["owner"], unaligned.json()["version"]) == (None, None, 4)

    deleted = client.delete(f"{API}objectives/{objective.pk}/?version=4")
    assert (deleted.status_code, deleted.json()) == (200, {"version": 5})
    assert not Objective.objects.for_organization(world.org_a).filter(scorecard=division).exists()


def test_objective_rules_are_refused_with_the_reason(world, acme, globex):
    client = client_for(world.admin_a)
    customer = band(world.company_a)
    delight = acme["delight"]
    url = f"{API}objectives/{delight.pk}/"
    with organization_scope(world.org_a):
        division_goal = strategy.objective_create(perspective=band(world.division_a), name="Division goal")
    before = map_rows(world.org_a)
    version = version_of(world.company_a)

    def create(**fields):
        return client.post(
            f"{API}objectives/", {"perspective": customer.pk, "version": version, **fields}, format="json"
        )

    cases = [
        (create(name=""), {"name": ["This field may not be blank."]}),
        (create(name="   "), {"name": ["This field may not be blank."]}),
        (create(name="x" * 121), {"name": ["Ensure this field has no more than 120 characters."]}),
        (create(), {"name": ["This field is required."]}),
        (create(name="Off the map", x=1001), {"x": ["Ensure this value is less than or equal to 1000."]}),
        (create(name="Below the band", y=91), {"y": ["Ensure this value is less than or equal to 90."]}),
        (create(name="Negative", x=-1), {"x": ["Ensure this value is greater than or equal to 0."]}),
        (
            create(name="Aligned upward wrongly", aligned_to=acme["grow"].pk),
            {"aligned_to": ["Only an objective of the parent unit's map can be aligned to."]},
        ),
        (
            client.patch(url, {"perspective": band(world.division_a).pk, "version": version}, format="json"),
            {"perspective": ["The perspective belongs to another map."]},
        ),
        (
            client.patch(url, {"name": "", "version": version}, format="json"),
            {"name": ["This field may not be blank."]},
        ),
        (client.patch(url, {"name": "No version"}, format="json"), {"version": ["This field is required."]}),
        (
            client.patch(
                f"{API}objectives/{division_goal.pk}/", {"aligned_to": division_goal.pk, "version": 2}, format="json"
            ),
            {"aligned_to": ["“Division goal” is not on the parent unit's map (Acme Manufacturing)."]},
        ),
        (
            create(name="Foreign band", perspective=globex["perspective"].pk),
            {"perspective": [f'Invalid pk "{globex["perspective"].pk}" - object does not exist.']},
        ),
        (
            create(name="Foreign owner", owner=world.member_b.pk),
            {"owner": [f'Invalid pk "{world.member_b.pk}" - object does not exist.']},
        ),
        (
            client.patch(url, {"aligned_to": globex["objective"].pk, "version": version}, format="json"),
            {"aligned_to": [f'Invalid pk "{globex["objective"].pk}" - object does not exist.']},
        ),
    ]

    assert [(r.status_code, r.json()) for r, _ in cases] == [(400, errors) for _, errors in cases]
    assert map_rows(world.org_a) == before


def test_a_card_may_not_cover_another_card_of_its_band(world, acme):
    """Refused rather than moved: the answer holds what was asked or nothing; the browser editor itself moves a
    dropped card to the nearest free spot before it saves."""
    client = client_for(world.admin_a)
    customer = band(world.company_a)  # "Delight customers" sits at x 300-500, y 40-110
    with organization_scope(world.org_a):
        spare = strategy.objective_create(perspective=customer, name="Spare", x=700, y=40)
    before = map_rows(world.org_a)
    version = version_of(world.company_a)
    taken = {"x": ["This spot in Customer is taken by “Delight customers”; move the card to a free spot."]}

    responses = [
        client.patch(f"{API}objectives/{spare.pk}/", {"x": 350, "version": version}, format="json"),
        client.patch(f"{API}objectives/{spare.pk}/", {"x": 450, "y": 90, "version": version}, format="json"),
        client.patch(
            f"{API}objectives/{acme['grow'].pk}/",
            {"perspective": customer.pk, "x": 200, "y": 0, "version": version},
            format="json",
        ),
        client.post(
            f"{API}objectives/",
            {"perspective": customer.pk, "name": "On top", "x": 300, "y": 40, "version": version},
            format="json",
        ),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(400, taken)] * 4
    assert map_rows(world.org_a) == before
    # Edge to edge is no overlap; a rename of a card is never refused for where it stands.
    touching = client.patch(f"{API}objectives/{spare.pk}/", {"x": 500, "version": version}, format="json")
    assert (touching.status_code, touching.json()["x"]) == (200, 500)
    with organization_scope(world.org_a):
        Objective.objects.filter(pk=spare.pk).update(x=310)  # left on top by older data
    renamed = client.patch(f"{API}objectives/{spare.pk}/", {"name": "Kept", "version": version + 1}, format="json")
    assert renamed.status_code == 200


def test_a_card_without_a_position_goes_to_the_first_free_spot_until_the_band_is_full(world, acme):
    client = client_for(world.admin_a)
    customer = band(world.company_a)
    answers = []
    for index in range(20):
        response = client.post(
            f"{API}objectives/",
            {"perspective": customer.pk, "name": f"Goal {index}", "version": version_of(world.company_a)},
            format="json",
        )
        answers.append(response)
        if response.status_code != 201:
            break

    made = [(r.json()["x"], r.json()["y"]) for r in answers if r.status_code == 201]
    assert made[:3] == [(20, 50), (520, 50), (740, 50)]  # the middle row first, clear of "Delight customers"
    assert (answers[-1].status_code, answers[-1].json()) == (
        400,
        {"perspective": ["Customer has no free spot for another card; move or delete one first."]},
    )
    cards = [(300, 40), *made]
    assert not [
        (a, b) for i, a in enumerate(cards) for b in cards[i + 1 :] if abs(a[0] - b[0]) < 200 and abs(a[1] - b[1]) < 70
    ]


# --- Cause-effect links ------------------------------------------------------------------------------


def test_an_admin_draws_and_removes_an_arrow(world, acme):
    client = client_for(world.admin_a)
    company = scorecard_of(world.company_a)
    with organization_scope(world.org_a):
        skills = strategy.objective_create(perspective=band(world.company_a, "Learning & Growth"), name="Build skills")

    created = client.post(
        f"{API}links/", {"source": skills.pk, "target": acme["delight"].pk, "version": 5}, format="json"
    )

    assert created.status_code == 201
    link = CauseEffectLink.objects.for_organization(world.org_a).get(source=skills)
    assert created.json() == {
        "id": link.pk,
        "scorecard": company.pk,
        "source": skills.pk,
        "target": acme["delight"].pk,
        "version": 6,
    }
    deleted = client.delete(f"{API}links/{link.pk}/?version=6")
    assert (deleted.status_code, deleted.json()) == (200, {"version": 7})
    assert list(CauseEffectLink.objects.for_organization(world.org_a).values_list("source", "target")) == [
        (acme["delight"].pk, acme["grow"].pk)
    ]


def test_arrow_rules_are_refused_with_the_reason(world, acme, globex):
    client = client_for(world.admin_a)
    grow, delight = acme["grow"], acme["delight"]
    with organization_scope(world.org_a):
        division_goal = strategy.objective_create(perspective=band(world.division_a), name="Division goal")
    before = map_rows(world.org_a)

    def draw(source, target):
        return client.post(f"{API}links/", {"source": source, "target": target, "version": 4}, format="json")

    cases = [
        (draw(grow.pk, grow.pk), {"target": ["An objective cannot drive itself."]}),
        (draw(delight.pk, grow.pk), {"target": ["“Delight customers” already drives “Grow revenue”."]}),
        (
            draw(grow.pk, delight.pk),
            {"target": ["This arrow would close a cycle: “Delight customers” already leads back to “Grow revenue”."]},
        ),
        (draw(grow.pk, division_goal.pk), {"target": ["Both objectives must be on the same map."]}),
        (
            draw(grow.pk, globex["objective"].pk),
            {"target": [f'Invalid pk "{globex["objective"].pk}" - object does not exist.']},
        ),
        (
            draw(globex["objective"].pk, grow.pk),
            {"source": [f'Invalid pk "{globex["objective"].pk}" - object does not exist.']},
        ),
        (draw(grow.pk, None), {"target": ["This field may not be null."]}),
        (client.delete(f"{API}links/{acme['link'].pk}/?version=x"), {"version": ["A valid integer is required."]}),
    ]

    assert [(r.status_code, r.json()) for r, _ in cases] == [(400, errors) for _, errors in cases]
    assert map_rows(world.org_a) == before


def test_an_arrow_is_drawn_or_removed_never_changed(world, acme):
    response = client_for(world.admin_a).patch(
        f"{API}links/{acme['link'].pk}/", {"target": acme["delight"].pk, "version": 4}, format="json"
    )

    assert response.status_code == 405


# --- Initiatives -------------------------------------------------------------------------------------


def test_an_admin_adds_edits_and_removes_an_initiative(world, acme):
    client = client_for(world.admin_a)
    grow = acme["grow"]

    created = client.post(
        f"{API}initiatives/",
        {
            "objective": grow.pk,
            "name": "Open Nordic market",
            "owner": world.admin_a.pk,
            "start": "2025-01-01",
            "end": "2025-06-30",
            "status": "on_track",
            "progress": 25,
            "budget": "120000",
        },
        format="json",
    )
    assert created.status_code == 201
    initiative = Initiative.objects.for_organization(world.org_a).get(name="Open Nordic market")
    assert created.json() == {
        "id": initiative.pk,
        "objective": grow.pk,
        "name": "Open Nordic market",
        "owner": world.admin_a.pk,
        "owner_name": "Admin of acme",
        "start": "2025-01-01",
        "end": "2025-06-30",
        "status": "on_track",
        "progress": 25,
        "budget": "120000.00",
    }

    edited = client.patch(
        f"{API}initiatives/{initiative.pk}/", {"status": "done", "progress": 100, "owner": None}, format="json"
    )
    assert edited.status_code == 200
    assert (edited.json()["status"], edited.json()["progress"], edited.json()["owner_name"]) == ("done", 100, "")
    initiative.refresh_from_db()
    assert (initiative.status, initiative.progress, initiative.end) == ("done", 100, date(2025, 6, 30))

    assert client.delete(f"{API}initiatives/{initiative.pk}/").status_code == 204
    assert list(Initiative.objects.for_organization(world.org_a).values_list("name", flat=True)) == ["Customer survey"]
    assert version_of(world.company_a) == 4  # initiatives are not part of the drawn map


def test_initiative_rules_are_refused_with_the_reason(world, acme, globex):
    client = client_for(world.admin_a)
    url = f"{API}initiatives/{acme['initiative'].pk}/"
    before = map_rows(world.org_a)

    def create(**fields):
        return client.post(
            f"{API}initiatives/", {"objective": acme["grow"].pk, "name": "Plan", **fields}, format="json"
        )

    cases = [
        (create(name=""), {"name": ["This field may not be blank."]}),
        (create(name="x" * 161), {"name": ["Ensure this field has no more than 160 characters."]}),
        (create(progress=101), {"progress": ["Ensure this value is less than or equal to 100."]}),
        (create(status="late"), {"status": ['"late" is not a valid choice.']}),
        (
            create(start="2025-05-01", end="2025-04-01"),
            {"non_field_errors": ["The end date must not be before the start date."]},
        ),
        (
            create(objective=globex["objective"].pk),
            {"objective": [f'Invalid pk "{globex["objective"].pk}" - object does not exist.']},
        ),
        (create(owner=world.member_b.pk), {"owner": [f'Invalid pk "{world.member_b.pk}" - object does not exist.']}),
        (
            client.patch(url, {"objective": acme["grow"].pk}, format="json"),
            {"objective": ["An initiative stays with its objective; create a new one instead."]},
        ),
    ]

    assert [(r.status_code, r.json()) for r, _ in cases] == [(400, errors) for _, errors in cases]
    assert map_rows(world.org_a) == before


# --- The trio's other two: another organization's ids, roles without write access ----------------------


def foreign_requests(client, world, globex):
    """Every mutating request, aimed at organization B's rows through organization A's URLs."""
    return [
        client.post(f"{API}scorecards/{globex['scorecard'].pk}/copy-parent/", {"version": 2}, format="json"),
        client.post(
            f"{API}scorecards/{globex['scorecard'].pk}/reorder-perspectives/",
            {"order": [], "version": 2},
            format="json",
        ),
        client.patch(f"{API}perspectives/{globex['perspective'].pk}/", {"name": "Hacked", "version": 4}, format="json"),
        client.delete(f"{API}perspectives/{globex['perspective'].pk}/?version=4"),
        client.patch(f"{API}objectives/{globex['objective'].pk}/", {"name": "Hacked", "version": 4}, format="json"),
        client.delete(f"{API}objectives/{globex['objective'].pk}/?version=4"),
        client.delete(f"{API}links/{globex['link'].pk}/?version=4"),
        client.patch(f"{API}initiatives/{globex['initiative'].pk}/", {"name": "Hacked"}, format="json"),
        client.delete(f"{API}initiatives/{globex['initiative'].pk}/"),
    ]


def test_another_organizations_map_rows_are_404_and_unchanged(world, globex):
    client = client_for(world.admin_a)
    before_b = map_rows(world.org_b)

    responses = foreign_requests(client, world, globex)

    assert [r.status_code for r in responses] == [404] * len(responses)
    assert all("Globex" not in r.content.decode() for r in responses)
    assert map_rows(world.org_b) == before_b


def test_creating_with_another_organizations_ids_is_refused_and_changes_nothing(world, globex):
    client = client_for(world.admin_a)
    before_a, before_b = map_rows(world.org_a), map_rows(world.org_b)
    missing = 'Invalid pk "{}" - object does not exist.'

    responses = [
        client.post(
            f"{API}perspectives/", {"scorecard": globex["scorecard"].pk, "name": "X", "version": 4}, format="json"
        ),
        client.post(
            f"{API}objectives/", {"perspective": globex["perspective"].pk, "name": "X", "version": 4}, format="json"
        ),
        client.post(
            f"{API}links/",
            {"source": globex["other"].pk, "target": globex["objective"].pk, "version": 4},
            format="json",
        ),
        client.post(f"{API}initiatives/", {"objective": globex["objective"].pk, "name": "X"}, format="json"),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [
        (400, {"scorecard": [missing.format(globex["scorecard"].pk)]}),
        (400, {"perspective": [missing.format(globex["perspective"].pk)]}),
        (
            400,
            {"source": [missing.format(globex["other"].pk)], "target": [missing.format(globex["objective"].pk)]},
        ),
        (400, {"objective": [missing.format(globex["objective"].pk)]}),
    ]
    assert (map_rows(world.org_a), map_rows(world.org_b)) == (before_a, before_b)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COACH, Role.DEPARTMENT_HEAD])
def test_a_role_without_write_access_gets_403_and_nothing_changes(world, member_of_role, acme, role):
    client = client_for(member_of_role(role))
    company = scorecard_of(world.company_a)
    customer = band(world.company_a)
    delight, grow = acme["delight"], acme["grow"]
    before = map_rows(world.org_a)

    responses = [
        client.post(f"{API}scorecards/{company.pk}/copy-parent/", {"version": 4}, format="json"),
        client.post(f"{API}scorecards/{company.pk}/reorder-perspectives/", {"order": [], "version": 4}, format="json"),
        client.post(f"{API}perspectives/", {"scorecard": company.pk, "name": "New", "version": 4}, format="json"),
        client.patch(f"{API}perspectives/{customer.pk}/", {"name": "Renamed", "version": 4}, format="json"),
        client.delete(f"{API}perspectives/{customer.pk}/?version=4"),
        client.post(f"{API}objectives/", {"perspective": customer.pk, "name": "New", "version": 4}, format="json"),
        client.patch(f"{API}objectives/{delight.pk}/", {"name": "Renamed", "version": 4}, format="json"),
        client.delete(f"{API}objectives/{delight.pk}/?version=4"),
        client.post(f"{API}links/", {"source": grow.pk, "target": delight.pk, "version": 4}, format="json"),
        client.delete(f"{API}links/{acme['link'].pk}/?version=4"),
        client.post(f"{API}initiatives/", {"objective": grow.pk, "name": "New"}, format="json"),
        client.patch(f"{API}initiatives/{acme['initiative'].pk}/", {"name": "Renamed"}, format="json"),
        client.delete(f"{API}initiatives/{acme['initiative'].pk}/"),
    ]

    label = Role(role).label.lower()
    assert [(r.status_code, r.json()) for r in responses] == [
        (403, {"detail": f"Your role ({label}) {MAY_NOT_EDIT}"})
    ] * len(responses)
    assert map_rows(world.org_a) == before
    assert client.get(f"{API}scorecards/{company.pk}/").status_code == 200  # reading is for everyone


# --- Two editors: a stale version is refused with 409 --------------------------------------------------


def test_a_stale_edit_gets_409_with_the_current_version_and_changes_nothing(world, acme):
    client = client_for(world.admin_a)
    company = scorecard_of(world.company_a)
    customer = band(world.company_a)
    delight, grow = acme["delight"], acme["grow"]
    with organization_scope(world.org_a):  # someone else's change: version 4 → 5
        strategy.objective_update(objective=grow, x=500, version=4)
    before = map_rows(world.org_a)

    responses = [
        client.patch(f"{API}objectives/{delight.pk}/", {"x": 0, "version": 4}, format="json"),
        client.post(f"{API}objectives/", {"perspective": customer.pk, "name": "Late", "version": 4}, format="json"),
        client.delete(f"{API}objectives/{delight.pk}/?version=4"),
        client.post(f"{API}links/", {"source": grow.pk, "target": acme["delight"].pk, "version": 3}, format="json"),
        client.delete(f"{API}links/{acme['link'].pk}/?version=4"),
        client.patch(f"{API}perspectives/{customer.pk}/", {"name": "Clients", "version": 4}, format="json"),
        client.post(f"{API}perspectives/", {"scorecard": company.pk, "name": "Planet", "version": 4}, format="json"),
        client.post(
            f"{API}scorecards/{company.pk}/reorder-perspectives/",
            {"order": [p.pk for p in perspectives_of(company)], "version": 4},
            format="json",
        ),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [
        (409, {"detail": STALE, "code": "stale", "version": 5})
    ] * len(responses)
    assert map_rows(world.org_a) == before
    assert client.patch(f"{API}objectives/{delight.pk}/", {"x": 0, "version": 5}, format="json").json()["version"] == 6


def test_a_session_write_needs_the_csrf_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.admin_a)
    payload = {"perspective": band(world.company_a).pk, "name": "Delight customers", "version": 1}

    refused = client.post(f"{API}objectives/", payload, format="json")
    assert refused.status_code == 403
    client.cookies["csrftoken"] = secret = "s" * 32
    accepted = client.post(f"{API}objectives/", payload, format="json", HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 201


def test_the_schema_documents_the_map_resources(db):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    prefix = "/api/v1/o/{org_slug}/"
    assert set(schema["paths"][f"{prefix}objectives/{{id}}/"]) == {"get", "patch", "delete"}
    assert set(schema["paths"][f"{prefix}links/{{id}}/"]) == {"get", "delete"}
    assert set(schema["paths"][f"{prefix}scorecards/{{id}}/copy-parent/"]) == {"post"}
    assert set(schema["paths"][f"{prefix}scorecards/{{id}}/reorder-perspectives/"]) == {"post"}


def test_the_objective_detail_lists_its_kpis_with_their_status(world, client):
    from kpis import services as kpi_services

    with organization_scope(world.org_a):
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        objective = strategy.objective_create(perspective=band, name="Delight customers")
        kpi_services.kpi_create(
            unit=world.company_a, name="Net promoter score", code="NPS", baseline=0, objective=objective
        )
        archived = kpi_services.kpi_create(
            unit=world.company_a, name="Old", code="OLD", baseline=0, objective=objective
        )
        kpi_services.kpi_archive(kpi=archived)
    client.force_login(world.viewer_a)
    response = client.get(f"/api/v1/o/acme/objectives/{objective.pk}/")
    assert response.status_code == 200
    kpi_id = response.json()["kpis"][0]["id"]
    assert response.json()["kpis"] == [{"id": kpi_id, "code": "NPS", "name": "Net promoter score", "status": "grey"}]

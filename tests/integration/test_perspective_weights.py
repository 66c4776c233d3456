"""The perspective weights under the strategy map: executives and admins set every weight of a map at once (all
or nothing, the refused value named on its field), the map's unit is queued for a recompute, other roles read
them only, another organization's map is a 404; the checklist item of a map whose perspectives all weigh 0 links
here."""

import re
from decimal import Decimal

import pytest

from bsc.models import Perspective, Role, Scorecard
from bsc.tenancy import organization_scope
from kpis.checks import perspectives_weighted_zero
from kpis.models import PendingRecompute

pytestmark = pytest.mark.django_db


def bands(world):
    with organization_scope(world.org_a):
        return list(Perspective.objects.filter(scorecard__unit=world.company_a).order_by("order", "id"))


def weights(world) -> list[Decimal]:
    return [p.weight for p in bands(world)]


def form_data(world, *values) -> dict:
    return {f"weight-{p.pk}": value for p, value in zip(bands(world), values, strict=True)}


def url(world) -> str:
    return f"/o/acme/map/{world.company_a.pk}/weights/"


def test_an_executive_sets_every_weight_at_once_and_the_unit_is_rescored(world, client, member_of_role):
    client.force_login(member_of_role(Role.EXECUTIVE))
    page = client.get(f"/o/acme/map/{world.company_a.pk}/").content.decode()
    assert 'id="perspective-weights"' in page and "Save weights" in page
    assert re.search(r'<label for="id_weight-\d+">Financial</label>', page)
    with organization_scope(world.org_a):
        version = Scorecard.objects.get(unit=world.company_a).version

    response = client.post(url(world), form_data(world, "2", "1.5", "1", "0"))
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/map/{world.company_a.pk}/#perspective-weights"
    assert weights(world) == [Decimal(2), Decimal("1.5"), Decimal(1), Decimal(0)]
    with organization_scope(world.org_a):
        assert Scorecard.objects.get(unit=world.company_a).version == version + 1  # an open editor reloads
        assert PendingRecompute.objects.filter(unit=world.company_a).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Perspective weights of Acme Manufacturing saved; its scores are being recomputed." in page
    assert 'value="1.5"' in page and 'value="2"' in page


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (("1", "-1", "1", "1"), 1, "Ensure this value is greater than or equal to 0."),
        (("1", "1", "lots", "1"), 2, "Enter a number."),
        (("1", "1", "1", "12345"), 3, "Ensure that there are no more than 4 digits before the decimal point."),
    ],
)
def test_a_refused_weight_is_named_on_its_field_and_nothing_is_saved(world, client, values, field, message):
    client.force_login(world.admin_a)
    before = weights(world)
    response = client.post(url(world), form_data(world, *values))
    assert response.status_code == 200
    page = response.content.decode()
    band = bands(world)[field]
    assert f'id="id_weight-{band.pk}_error"><p class="error">{message}</p>' in page
    assert weights(world) == before


def test_a_perspective_added_meanwhile_refuses_the_form_and_says_why(world, client):
    client.force_login(world.admin_a)
    data = form_data(world, "1", "1", "1", "1")
    data.pop(next(iter(data)))  # the form as it was before a band was added: one field fewer than the map has
    response = client.post(url(world), data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert weights(world) == [Decimal(1)] * 4


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DEPARTMENT_HEAD, Role.COACH])
def test_other_roles_read_the_weights_and_may_not_set_them(world, client, member_of_role, role):
    client.force_login(member_of_role(role))
    page = client.get(f"/o/acme/map/{world.company_a.pk}/").content.decode()
    assert 'id="perspective-weights"' in page and "Save weights" not in page
    assert "<span>Financial</span> <strong>1</strong>" in page
    assert client.post(url(world), form_data(world, "0", "0", "0", "0")).status_code == 403
    assert weights(world) == [Decimal(1)] * 4


def test_another_organizations_map_is_a_404(world, client):
    client.force_login(world.member_b)  # the admin of Globex
    assert client.post(url(world), form_data(world, "0", "0", "0", "0")).status_code == 404
    assert weights(world) == [Decimal(1)] * 4


def test_the_checklist_item_of_a_map_weighing_nothing_opens_the_weights(world, client):
    client.force_login(world.admin_a)
    client.post(url(world), form_data(world, "0", "0", "0", "0"))
    with organization_scope(world.org_a):
        items = perspectives_weighted_zero(organization=world.org_a)
    assert [item.fix_url for item in items] == [f"/o/acme/map/{world.company_a.pk}/#perspective-weights"]

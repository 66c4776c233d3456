"""The strategy-map page and its SVG export: same bands, cards and arrows; constant query count."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bsc import services, strategy
from bsc.models import Perspective
from bsc.tenancy import organization_scope


def build_map(world, objectives: int, links: int, first: int = 0):
    """Cards side by side, two rows a band (cards may not cover each other): up to 48 on one map."""
    with organization_scope(world.org_a):
        bands = list(Perspective.objects.filter(scorecard__unit=world.company_a))
        made = []
        for i in range(first, first + objectives):
            slot = i // 4
            made.append(
                strategy.objective_create(
                    perspective=bands[i % 4], name=f"Objective {i}", x=slot % 6 * 200, y=0 if slot < 6 else 90
                )
            )
        for i in range(links):
            strategy.link_create(source=made[i], target=made[i + 1])
    return made


def test_the_svg_export_holds_every_band_card_and_arrow(world, client):
    build_map(world, 8, 6)
    client.force_login(world.viewer_a)
    response = client.get(f"/o/acme/map/{world.company_a.pk}.svg?download=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="strategy-map-acme-manufacturing.svg"'
    svg = response.content.decode()
    assert svg.count('class="band"') == 4
    assert svg.count('class="objective"') == 8
    assert svg.count('class="link"') == 6
    assert "Acme Manufacturing: strategy map" in svg
    assert re.findall(r'font-weight="bold" fill="#33415c">([^<]+)<', svg) == [
        "Financial",
        "Customer",
        "Internal Process",
        "Learning &amp; Growth",
    ]


def test_names_are_escaped_in_the_svg(world, client):
    with organization_scope(world.org_a):
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        strategy.objective_create(perspective=band, name='<script>alert("x")</script>')
    client.force_login(world.admin_a)
    svg = client.get(f"/o/acme/map/{world.company_a.pk}.svg").content.decode()
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_the_svg_is_always_a_sandboxed_download_and_a_hostile_unit_name_stays_in_its_attribute(world, client):
    payload = 'x" onload="alert(1)" y="'
    with organization_scope(world.org_a):
        services.org_unit_update(unit=world.company_a, name=payload)
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        strategy.objective_create(perspective=band, name=payload)
    client.force_login(world.admin_a)
    response = client.get(f"/o/acme/map/{world.company_a.pk}.svg")  # no ?download=1: opened as a link
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="strategy-map-x-onloadalert1-y.svg"'
    assert "sandbox" in [directive.strip() for directive in response["Content-Security-Policy"].split(";")]
    assert response["X-Content-Type-Options"] == "nosniff"
    root = ET.fromstring(response.content)
    assert root.get("aria-label") == f"{payload}: strategy map"
    assert root.get("onload") is None and root.get("y") is None


def test_another_organizations_map_is_a_404(world, client):
    client.force_login(world.admin_a)
    assert client.get(f"/o/acme/map/{world.unit_b.pk}/").status_code == 404
    assert client.get(f"/o/acme/map/{world.unit_b.pk}.svg").status_code == 404


@pytest.mark.parametrize("url_suffix", ["/", ".svg"])
def test_the_map_query_count_does_not_grow_with_the_objectives(world, client, url_suffix):
    client.force_login(world.admin_a)
    url = f"/o/acme/map/{world.company_a.pk}{url_suffix}"
    build_map(world, 10, 5)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    build_map(world, 30, 20, first=10)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="objective"') == 40
    assert len(large.captured_queries) == len(small.captured_queries)


def test_objectives_are_coloured_by_their_status_once_scores_exist(world, client):
    from datetime import date
    from decimal import Decimal

    from django.utils import timezone

    from kpis import services as kpi_services
    from kpis.recompute import scores_recompute

    today = timezone.localdate()
    due = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    with organization_scope(world.org_a):
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        scored = strategy.objective_create(perspective=band, name="Scored")
        strategy.objective_create(perspective=band, name="Unscored", x=400)
        kpi = kpi_services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=0, objective=scored)
        kpi_services.target_set_year(kpi=kpi, fiscal_year=due.year, mode="same", value=Decimal(100), by=world.admin_a)
        kpi_services.measurement_record(kpi=kpi, period=due, value=Decimal(50), by=world.admin_a, schedule=False)
        scores_recompute(organization=world.org_a, unit_ids={world.company_a.pk}, months={due})
    client.force_login(world.viewer_a)
    svg = client.get(f"/o/acme/map/{world.company_a.pk}.svg").content.decode()
    cards = re.findall(r'data-objective="\d+"><rect [^>]*stroke="(#[0-9a-f]+)"', svg)
    assert cards == ["#c0392b", "#9aa1ad"]  # red (score 0.5), grey (no data)

"""The dashboard's "Likely to miss" panel (loaded after the page): the KPIs of the unit's subtree whose year-end
forecast misses the target, on the forecast tests' world (tests/integration/test_api_scores.py, 18 Nov 2026)."""

import re

from tests.integration.test_api_scores import scored  # noqa: F401 (the fixture)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_the_panel_lists_the_kpis_forecast_to_miss_the_year(world, client, scored):  # noqa: F811
    client.force_login(world.viewer_a)
    page = client.get("/o/acme/dashboard/").content.decode()
    url = f"/o/acme/dashboard/{world.company_a.pk}/likely/"
    assert f'hx-get="{url}" hx-trigger="load"' in page
    panel = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in panel and 'id="likely-panel"' in panel
    listed = [text(item) for item in re.findall(r"<li>(.*?)</li>", panel.split('id="likely">')[1], re.S)]
    assert listed == [
        "OTD On time Acme Manufacturing · year end projected 49.0 against 80.0"
    ]  # 60, 59 … 55: a month less each
    full = client.get(url)
    assert full.status_code == 200 and "<html" in full.content.decode()


def test_the_panel_of_another_organizations_unit_is_a_404(world, client, scored):  # noqa: F811
    client.force_login(world.admin_a)
    assert client.get(f"/o/acme/dashboard/{world.unit_b.pk}/likely/").status_code == 404

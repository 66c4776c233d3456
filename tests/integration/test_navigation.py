"""The main navigation shows each role only the pages it may use; a viewer following an old link to a page
of another role gets a 403 page saying what a viewer may do."""

import re

import pytest

from bsc.models import Role

NAVIGATION = re.compile(r'<nav class="mainnav" aria-label="Main">(.*?)</nav>', re.S)

EXPECTED = {
    Role.ADMIN: ["Dashboard", "Strategy map", "Scorecards", "KPIs", "Data entry", "Coaching", "Admin"],
    Role.EXECUTIVE: ["Dashboard", "Strategy map", "Scorecards", "KPIs", "Data entry", "Coaching", "Units"],
    Role.DEPARTMENT_HEAD: ["Home", "Dashboard", "Strategy map", "Scorecards", "KPIs", "Data entry", "Coaching"],
    Role.COACH: ["Dashboard", "Strategy map", "Scorecards", "KPIs", "Coaching"],
    Role.VIEWER: ["Home", "Dashboard", "Strategy map", "Scorecards", "KPIs"],
}


def navigation_links(html: str) -> list[tuple[str, str]]:
    nav = NAVIGATION.search(html).group(1)
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_the_navigation_shows_each_role_the_pages_it_may_use(client, world, member_of_role, role):
    client.force_login(member_of_role(role))
    links = navigation_links(client.get("/o/acme/").content.decode())
    assert [name for _, name in links] == EXPECTED[role]
    for href, name in links:
        assert client.get(href).status_code == 200, name


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/o/acme/data-entry/", "Your role may not enter measurements."),
        ("/o/acme/coaching/", "Your role may not read coaching sessions and notes."),
    ],
)
def test_a_viewer_following_an_old_link_learns_what_a_viewer_may_do(client, world, path, reason):
    client.force_login(world.viewer_a)
    response = client.get(path)
    assert response.status_code == 403
    page = response.content.decode()
    assert f"{reason} Nothing was changed." in page
    assert (
        "As a viewer you may read the strategy map, scorecards, KPIs and their exports; "
        "not coaching sessions, action items or data entry."
    ) in page

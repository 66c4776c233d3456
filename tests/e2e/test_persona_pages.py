"""Each persona's main pages on the demo organization (`seed_demo`: a year of values, scores, sessions and
action items), as its person sees them: every page is saved at 1280x800 and 390x844
(tests/screenshots/persona_<persona>_<page>_<desktop|phone>.png, for people to look at), passes the
accessibility check (axe-core: no serious or critical violation, tests/a11y.py) at both sizes, and does not
scroll sideways on the phone."""

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.urls import reverse

from bsc.models import OrgUnit
from bsc.project.demo import DEMO_PASSWORD, DEMO_SLUG, DEMO_USERS
from bsc.tenancy import dangerously_unscoped
from coaching.models import CoachingSession
from kpis.models import Kpi, PendingRecompute
from tests.a11y import axe_violations, describe, page_width_problem
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
EMAILS = {persona.replace(" ", "_"): email for persona, email, *_ in DEMO_USERS}


@dataclass
class Demo:
    company: OrgUnit
    kpi: Kpi
    session: CoachingSession

    def pages(self) -> dict[str, list[tuple[str, str]]]:
        """(page name, address) of each persona's main pages."""

        def url(name: str, *args) -> str:
            return reverse(name, args=[DEMO_SLUG, *args])

        return {
            "executive": [
                ("home", url("org_overview")),
                ("strategy_map", url("strategy_map", self.company.pk)),
                ("scorecard", url("scorecard_detail", self.company.pk)),
                ("kpi", url("kpi_detail", self.kpi.pk)),
            ],
            "department_head": [("data_entry", url("data_entry")), ("home", url("org_overview"))],
            "coach": [
                ("coaching", url("coaching_index")),
                ("session", url("coaching_session", self.session.pk)),
                ("action_items", url("coaching_actions")),
            ],
            "viewer": [("scorecard", url("scorecard_detail", self.company.pk))],
            "admin": [("members", url("admin_members"))],
        }


@pytest.fixture
def demo(transactional_db) -> Demo:
    call_command("seed_demo", stdout=io.StringIO())
    with dangerously_unscoped():
        company = OrgUnit.objects.get(organization__slug=DEMO_SLUG, parent__isnull=True)
        kpi = Kpi.objects.filter(unit=company, source="manual").order_by("code").first()  # entered by hand
        # seed_demo computes every score itself; the outbox rows its saves left are for a worker `make run` starts
        PendingRecompute.objects.filter(organization__slug=DEMO_SLUG).delete()
        session = (
            CoachingSession.objects.filter(organization__slug=DEMO_SLUG, status="held").order_by("-held_at").first()
        )
    return Demo(company=company, kpi=kpi, session=session)


def test_each_persona_main_pages_are_saved_accessible_and_fit_a_phone(demo, open_page):
    problems: list[str] = []
    for persona, pages in demo.pages().items():
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = open_page(viewport=viewport, is_mobile=size == "phone")
            log_in(page, EMAILS[persona], DEMO_PASSWORD)
            for name, address in pages:
                response = page.goto(address)
                assert response.status == 200, f"{persona} {name}: {response.status} at {address}"
                page.wait_for_load_state("networkidle")
                screenshot(page, f"persona_{persona}_{name}_{size}")
                where = f"{persona} {name} ({size}, {address}) "
                if violations := axe_violations(page):
                    problems.append(describe(violations, where))
                if size == "phone" and (problem := page_width_problem(page, PHONE["width"])):
                    problems.append(where + problem)
            page.close()
    assert not problems, "\n".join(problems)

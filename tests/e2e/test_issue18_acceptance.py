"""Issue 18's acceptance, on the demo organization (`seed_demo`) in a real browser: an executive turns on the evidence
view of the company map and sees a strong and a weak link, opens the consistency checklist and follows an item to
where it is fixed; a department head mentions the coach in a comment on a red KPI and attaches a PDF to its value;
the coach finds the mention in the inbox and opens the file; a member of another organization gets 404 for the file's
address (pages saved as issue18-*.png)."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from attachments.models import EvidenceFile
from bsc.models import Organization, OrgUnit
from bsc.org_calendar import due_month
from bsc.project.demo import DEMO_SLUG
from bsc.tenancy import dangerously_unscoped, organization_scope
from comments.models import Comment
from kpis.models import Kpi, KpiScore, Measurement, PendingRecompute, Target
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def demo(transactional_db) -> Organization:
    call_command("seed_demo", stdout=io.StringIO())
    with dangerously_unscoped():
        PendingRecompute.objects.all().delete()  # seed_demo computed every score itself
    return Organization.objects.get(slug=DEMO_SLUG)


def test_issue_18_acceptance(demo, open_page):
    slug = demo.slug
    with organization_scope(demo):
        company = OrgUnit.objects.get(parent__isnull=True)
        # A red KPI of Operations with a value in the month its page shows first.
        red = (
            KpiScore.objects.filter(
                status="red", period_kind="month", kpi__unit__name="Operations", kpi__source="manual"
            )
            .select_related("kpi")
            .order_by("-period", "kpi__code")
            .first()
        )
        assert red is not None, "the demo has a red KPI in Operations"
        kpi: Kpi = red.kpi
        measurement = Measurement.objects.get(kpi=kpi, period=red.period)
        # The demo's KPI without values (Human Resources) and its target for the month now due.
        due = due_month(demo)
        stale = Kpi.objects.get(code="HR-ENG")
        stale_target = Target.objects.get(kpi=stale, period=due).value

    # The executive: the map's evidence view, then the checklist.
    page = open_page()
    log_in(page, "ceo@northwind.example", "demo-scorecard-2026")
    page.goto(reverse("strategy_map", args=[slug, company.pk]))
    page.get_by_label("Show the evidence for the arrows").check()
    expect(page.locator("#map-evidence-legend")).to_be_visible()
    expect(page.locator("#strategy-map line.link.evidence-strong").first).to_be_attached()
    expect(page.locator("#strategy-map line.link.evidence-weak").first).to_be_attached()
    screenshot(page, "issue18-map-evidence")
    # The checklist's item of the demo's story (Human Resources is short of data): the executive follows it to
    # the value's input and enters it; the item is gone.
    checks_page = reverse("consistency_checks", args=[slug])
    page.goto(checks_page)
    expect(page.get_by_role("heading", name="Consistency checks", level=1)).to_be_visible()
    item = page.locator("#rule-kpis_without_values li").filter(has_text=f"{stale.code} · {stale.name} has no value")
    fix = item.get_by_role("link", name="Enter its value")
    expect(fix).to_be_visible()
    screenshot(page, "issue18-checks")
    before = int(page.locator("#checks-total").inner_text().split()[0])
    fix.click()
    expect(page).to_have_url(re.compile(rf"/data-entry/\?period={due:%Y-%m}&unit={stale.unit_id}#value-{stale.pk}$"))
    value = page.locator(f"#value-{stale.pk}")
    expect(value).to_be_visible()
    value.fill(f"{stale_target.normalize():f}")
    with page.expect_navigation():
        page.get_by_role("button", name="Save all").click()
    expect(page.locator("#messages")).to_contain_text(f"Saved 1 value for {due:%B %Y}.")
    screenshot(page, "issue18-checks-fixed-value")
    page.goto(checks_page)
    expect(item).to_have_count(0)
    expect(page.locator("#checks-total")).to_have_text(
        f"{before - 1} item{'s' if before > 2 else ''} to look at."
        if before > 1
        else "Nothing to fix: every rule passes."
    )

    # The department head: a comment mentioning the coach, and a PDF on the red value.
    head = open_page()
    log_in(head, "ops.head@northwind.example", "demo-scorecard-2026")
    kpi_page = reverse("kpi_detail", args=[slug, kpi.pk])
    head.goto(kpi_page)
    thread = head.locator("section.comments")
    thread.get_by_label("Add a comment").fill(
        "Red again: the 8D report is on the value. @coach can we review it on Thursday?"
    )
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.locator(".comment-notice")).to_have_text("Comment posted.")
    label = f"{red.period:%b %Y}"
    row = head.locator("table.kpi-values tbody tr", has=head.get_by_role("rowheader", name=label))
    row.get_by_text("Files").click()
    panel = row.locator(".evidence-panel")
    panel.get_by_label("Add a file").set_input_files(
        {"name": "8D report.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    panel.get_by_role("button", name="Add file").click()
    expect(row.get_by_role("link", name="8D report.pdf")).to_be_visible()
    screenshot(head, "issue18-head-comment-and-file")
    with dangerously_unscoped():
        evidence = EvidenceFile.objects.get(name="8D report.pdf")
    assert evidence.measurement_id == measurement.pk

    # The coach: the mention in the inbox, then the file.
    coach = open_page()
    log_in(coach, "coach@northwind.example", "demo-scorecard-2026")
    coach.goto(reverse("inbox", args=[slug]))
    with organization_scope(demo):
        comment = Comment.objects.get(body__startswith="Red again: the 8D report")
    mention = coach.locator("ul.inbox > li").filter(has=coach.locator(f'a[href$="#comment-{comment.pk}"]'))
    expect(mention).to_contain_text(f"mentioned you in a comment on KPI {kpi.code}")
    mention.get_by_role("link", name="Open").click()
    expect(coach).to_have_url(re.compile(rf"{kpi_page}#comment-[0-9]+$"))
    row = coach.locator("table.kpi-values tbody tr", has=coach.get_by_role("rowheader", name=label))
    row.get_by_text("Files").click()
    with coach.expect_download() as caught:
        row.get_by_role("link", name="8D report.pdf").click()
    with open(caught.value.path(), "rb") as handle:
        assert handle.read() == PDF
    screenshot(coach, "issue18-coach-opens-file")

    # Another organization's member: the file's address is a 404.
    other = factories.make_organization("globex", name="Globex")
    stranger = open_page()
    log_in(stranger, f"admin@{other.slug}.example.com")
    assert stranger.request.get(reverse("evidence_download", args=[slug, evidence.pk])).status == 404
    assert stranger.request.get(f"/api/v1/o/{slug}/files/{evidence.pk}/download/").status == 404

"""A department head comments on a red KPI with a mention of the coach (and of someone who is no member), replies with
the keyboard and edits the comment; the coach finds the mention in the inbox once and follows it to the KPI page; the
thread on a phone (pages saved as comments-*.png)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bsc.tenancy import organization_scope
from coaching.models import Notification
from kpis import services as kpis
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_department_head_mentions_the_coach_in_a_comment_on_a_kpi(world, open_page):
    head = factories.hugo_head(world)
    coach = factories.carla_coach(world)
    with organization_scope(world.org_a):
        kpi = kpis.kpi_create(
            unit=world.department_a, name="On-time delivery", code="OTD", baseline=Decimal(0), owner=head
        )
    kpi_page = reverse("kpi_detail", args=["acme", kpi.pk])

    page = open_page()
    log_in(page, head.email)
    page.goto(kpi_page)
    thread = page.locator("section.comments")
    expect(thread.get_by_role("heading", name="Comments (0)")).to_be_visible()
    box = thread.get_by_label("Add a comment")
    box.fill("Late alloy again. @carla can we take this to the review? Also @zoe. <script>alert(1)</script>")
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.locator(".comment-notice")).to_have_text("Comment posted.")
    expect(thread.locator(".comment-warning")).to_contain_text("Not notified: @zoe is no member of this organization")
    first = thread.locator("article.comment").first
    expect(first).to_contain_text("Late alloy again.")
    expect(first.locator(".comment-mentions")).to_have_text("Mentioned: @Carla Coach")
    expect(thread.get_by_role("heading", name="Comments (1)")).to_be_visible()

    # A reply with the keyboard only: Tab to "Reply", open it, type, Tab to the button, Enter.
    thread.locator("details.comment-reply summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("The supplier promised a recovery plan by Friday.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(thread.locator(".comment-replies article.comment")).to_contain_text("recovery plan by Friday")

    # An edit keeps the earlier text and notifies nobody again.
    first = thread.locator("article.comment").first
    first.locator("details.comment-edit summary").click()
    first.get_by_label("Edit your comment").fill("Late alloy again. @carla can we take this to Thursday's review?")
    first.get_by_role("button", name="Save").click()
    expect(thread.locator(".comment-notice")).to_have_text("Comment saved.")
    first = thread.locator("article.comment").first
    expect(first).to_contain_text("Thursday's review")
    expect(first.locator(".comment-meta")).to_contain_text("edited")
    expect(first.locator(".comment-versions summary")).to_have_text("Earlier version (1)")
    thread.scroll_into_view_if_needed()
    screenshot(page, "comments-kpi-desktop")
    assert Notification.objects.for_organization(world.org_a).filter(recipient=coach, kind="mention").count() == 1

    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, head.email)
    phone.goto(kpi_page)
    expect(phone.locator("section.comments article.comment")).to_have_count(2)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    phone.locator("section.comments").scroll_into_view_if_needed()
    screenshot(phone, "comments-kpi-phone")

    inbox = open_page()
    log_in(inbox, coach.email)
    inbox.goto(reverse("inbox", args=["acme"]))
    mention = inbox.locator("ul.inbox > li").filter(has_text="Hugo Head mentioned you in a comment on KPI OTD")
    expect(mention).to_have_count(1)
    expect(mention.locator(".meta")).to_contain_text("Mention in a comment")
    mention.get_by_role("link", name="Open").click()
    expect(inbox).to_have_url(re.compile(rf"{kpi_page}#comment-[0-9]+$"))
    expect(inbox.locator("section.comments article.comment").first).to_contain_text("Thursday's review")
    # Seen in the thread: the mention is read, so the next daily digest leaves it out.
    assert not Notification.objects.for_organization(world.org_a).filter(recipient=coach, read_at__isnull=True).exists()
    screenshot(inbox, "comments-coach-follows-mention")


def test_a_coach_comments_on_an_objective_and_an_initiative_in_the_maps_details_panel(world, open_page):
    from bsc import strategy
    from bsc.models import Perspective
    from tests.strategy_map_page import card

    coach = factories.carla_coach(world)
    with organization_scope(world.org_a):
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        objective = strategy.objective_create(perspective=band, name="Delight customers")
        strategy.initiative_create(objective=objective, name="Service training")
    page = open_page()
    log_in(page, coach.email)
    page.goto(reverse("strategy_map", args=["acme", world.company_a.pk]))
    card(page, "Delight customers").click()
    side = page.locator("#map-panel")
    thread = side.locator(f"#comments-objective-{objective.pk}")
    expect(thread.get_by_role("heading", name="Comments (0)")).to_be_visible()
    thread.get_by_label("Add a comment").fill("Which **survey** do we trust here? @admin")
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.locator("article.comment")).to_contain_text("Which survey do we trust here?")
    expect(thread.locator("article.comment strong").first).to_have_text("Carla Coach")
    # Escape while typing keeps the panel open (it closes the panel elsewhere).
    thread.get_by_label("Add a comment").press("Escape")
    expect(side).to_be_visible()
    side.locator("details.initiative-comments summary").click()
    initiative_thread = side.locator("details.initiative-comments section.comments")
    expect(initiative_thread.get_by_role("heading", name="Comments (0)")).to_be_visible()
    screenshot(page, "comments-map-panel-desktop")
    assert (
        Notification.objects.for_organization(world.org_a).filter(recipient=world.admin_a, kind="mention").count() == 1
    )

    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, coach.email)
    phone.goto(reverse("strategy_map", args=["acme", world.company_a.pk]))
    card(phone, "Delight customers").click()
    expect(phone.locator(f"#comments-objective-{objective.pk} article.comment")).to_have_count(1)
    phone.locator(f"#comments-objective-{objective.pk}").scroll_into_view_if_needed()
    screenshot(phone, "comments-map-panel-phone")

"""The browser tests' own guard: what the page fixture reports at teardown (console errors, script errors and
Content-Security-Policy violations), proven on a live page where the policy refuses injected inline code."""

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in, unexpected_console_problems, watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched_page(browser, live_server):
    """A page whose problems the test reads itself (the `page` fixture would fail the test for them)."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    problems = watch_console(context)
    yield context.new_page(), problems
    context.close()


def reported(page, problems: list[str], prefix: str, text: str = "") -> bool:
    """Waits (letting Playwright deliver the browser's events) until a problem starting with prefix arrives."""
    for _ in range(50):
        if any(p.startswith(prefix) and text in p for p in problems):
            return True
        page.wait_for_timeout(100)
    print(problems)
    return False


def test_the_policy_refuses_an_injected_inline_script_and_the_watch_reports_it(world, watched_page):
    page, problems = watched_page
    log_in(page, world.admin_a.email)
    page.goto(f"/o/{world.org_a.slug}/")
    assert problems == []
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__injectedRan = true";
        document.body.append(script);
    }"""
    )
    assert reported(page, problems, "CSP violation: script-src-elem refused inline")
    assert page.evaluate("window.__injectedRan") is None
    assert any(p.startswith("console error: Executing inline script violates") for p in problems), problems


def test_the_policy_refuses_an_injected_style_attribute_and_the_watch_reports_it(world, watched_page):
    page, problems = watched_page
    page.goto("/accounts/login/")
    page.evaluate("""() => document.querySelector("main").setAttribute("style", "display: none")""")
    assert reported(page, problems, "CSP violation: style-src-attr refused inline")
    expect(page.locator("main")).to_be_visible()


def test_the_watch_reports_an_uncaught_script_error(world, watched_page):
    page, problems = watched_page
    page.goto("/accounts/login/")
    page.evaluate("""() => { setTimeout(() => { throw new Error("boom from the test"); }); }""")
    assert reported(page, problems, "script error:", "boom from the test")


def test_only_the_problems_a_test_allowed_are_forgiven():
    problems = [
        "console error: Failed to load resource: the server responded with a status of 403 (Forbidden) (x:0)",
        "CSP violation: script-src-elem refused an inline source (x:1)",
    ]
    assert unexpected_console_problems(problems, (r"status of 403",)) == [problems[1]]
    assert unexpected_console_problems(problems, ()) == problems

"""htmx with CSRF: revoking an invitation swaps the list in place, without a page load."""

import pytest

from bsc import services
from bsc.models import Invitation, Role
from bsc.tenancy import organization_scope
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_revoking_an_invitation_swaps_the_list_in_place(world, page):
    with organization_scope(world.org_a):
        for email in ("ann@example.com", "bob@example.com"):
            services.invitation_create(
                organization=world.org_a, email=email, role=Role.VIEWER, invited_by=world.admin_a
            )
    log_in(page, world.admin_a.email)
    page.goto("/o/acme/admin/invitations/")
    page.evaluate("window.__sameDocument = true")  # lost if the browser loads a new page
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke the invitation of ann@example.com").click()
    page.get_by_text("The invitation of ann@example.com was revoked.").wait_for()
    assert page.evaluate("window.__sameDocument") is True
    rows = page.locator("#open-invitations tbody tr")
    assert rows.count() == 1 and "bob@example.com" in rows.inner_text()
    screenshot(page, "admin_invitations_after_revoke")
    with organization_scope(world.org_a):
        assert list(Invitation.objects.filter(revoked_at__isnull=False).values_list("email", flat=True)) == [
            "ann@example.com"
        ]


def test_an_htmx_post_without_the_csrf_header_is_refused(world, client):
    with organization_scope(world.org_a):
        invitation, _ = services.invitation_create(
            organization=world.org_a, email="ann@example.com", role=Role.VIEWER, invited_by=world.admin_a
        )
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.admin_a)
    response = strict.post(f"/o/acme/admin/invitations/{invitation.pk}/revoke/", headers={"HX-Request": "true"})
    assert response.status_code == 403
    with organization_scope(world.org_a):
        invitation.refresh_from_db()
    assert invitation.revoked_at is None

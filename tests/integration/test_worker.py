"""A task runs in a real Celery worker process and mails through a local SMTP server."""

import pytest

from bsc import services
from bsc.models import Role
from bsc.tenancy import organization_scope
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def test_an_invitation_mail_is_sent_by_the_worker(world, celery_worker_process, smtp_server):
    with organization_scope(world.org_a):
        invitation, token = services.invitation_create(
            organization=world.org_a, email="New.Person@Example.com", role=Role.COACH, invited_by=world.admin_a
        )
    message = wait_for(lambda: smtp_server.messages and smtp_server.messages[0], message="the invitation mail")
    assert message["To"] == "new.person@example.com"
    assert message["Subject"] == "You are invited to Acme Manufacturing on Scorecard"
    body = message.get_payload()
    assert f"/accounts/invitations/{token}/" in body
    assert "join Acme Manufacturing as coach" in body
    assert invitation.email == "new.person@example.com"

"""Account pages against the real stack: login and lockout (django-axes), logout, password change and
reset (mailed by a real Celery worker), invitation acceptance, personal API tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from bsc import services
from bsc.api.authentication import PersonalTokenAuthentication
from bsc.models import Invitation, Membership, PersonalToken, Role, User
from bsc.tenancy import organization_scope
from tests import factories
from tests.conftest import wait_for

LOGIN = "/accounts/login/"
AFTER_LOGIN = "/switch/"  # LOGIN_REDIRECT_URL: the only organization, or the picker
WRONG = "That email and password do not match an account."
LOCKED = "There were too many failed sign-in attempts, so signing in is paused for 5 minutes."


def form_errors(response) -> list[str]:
    """The texts of the form's non-field errors and field errors, in page order."""
    html = response.content.decode()
    return re.findall(r'<div class="form-errors" role="alert"><p>(.*?)</p></div>|<p class="error"[^>]*>(.*?)</p>', html)


def errors(response) -> list[str]:
    return [non_field or field for non_field, field in form_errors(response)]


def main_html(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def log_in(client, email: str, password: str = factories.PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def is_logged_in(client) -> bool:
    return client.get("/").status_code == 200


# --- Log in and out ----------------------------------------------------------------------------------


def test_a_member_logs_in_by_email_in_any_letter_case(world, client):
    response = log_in(client, "ADMIN@Acme.Example.com")
    assert response.status_code == 302
    assert response["Location"] == AFTER_LOGIN
    assert "Welcome, Admin of acme" in client.get("/").content.decode()


def test_a_member_of_one_organization_lands_on_its_home_and_a_member_of_several_picks_one(world, client):
    response = client.post(LOGIN, {"username": world.admin_a.email, "password": factories.PASSWORD}, follow=True)
    assert response.redirect_chain == [(AFTER_LOGIN, 302), ("/o/acme/", 302)]
    assert response.status_code == 200
    client.logout()

    factories.add_member(world.org_b, Role.VIEWER, user=world.admin_a)
    response = client.post(LOGIN, {"username": world.admin_a.email, "password": factories.PASSWORD}, follow=True)
    assert response.redirect_chain == [(AFTER_LOGIN, 302), ("/", 302)]
    assert "You belong to 2 organizations. Pick one to work in." in response.content.decode()
    client.get("/o/globex/")  # the organization last used in the session opens from the switcher
    assert client.get(AFTER_LOGIN)["Location"] == "/o/globex/"


def test_login_follows_next_to_a_local_page_only(world, client):
    response = client.post(LOGIN, {"username": world.admin_a.email, "password": factories.PASSWORD, "next": "/o/acme/"})
    assert response["Location"] == "/o/acme/"
    client.logout()
    response = client.post(
        LOGIN, {"username": world.admin_a.email, "password": factories.PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == AFTER_LOGIN


def test_wrong_password_and_unknown_email_get_the_identical_message(world, client):
    wrong_password = log_in(client, world.admin_a.email, "not-the-password")
    unknown_email = log_in(client, "nobody@acme.example.com", "not-the-password")
    assert wrong_password.status_code == unknown_email.status_code == 200
    assert errors(wrong_password) == errors(unknown_email) == [WRONG]
    assert not is_logged_in(client)


def test_an_inactive_account_gets_the_same_message(world, client):
    User.objects.filter(pk=world.viewer_a.pk).update(is_active=False)
    assert errors(log_in(client, world.viewer_a.email)) == [WRONG]
    assert not is_logged_in(client)


def test_five_failed_logins_lock_out_even_the_right_password(world, client):
    for _ in range(4):
        response = log_in(client, world.admin_a.email, "not-the-password")
        assert response.status_code == 200
        assert errors(response) == [WRONG]
    fifth = log_in(client, world.admin_a.email, "not-the-password")
    assert fifth.status_code == 429
    right_password = log_in(client, world.admin_a.email)
    assert right_password.status_code == 429
    assert LOCKED in right_password.content.decode()
    assert not is_logged_in(client)


def test_the_lockout_page_does_not_reveal_whether_the_account_exists(world, client):
    for _ in range(5):
        known = log_in(client, world.admin_a.email, "not-the-password", REMOTE_ADDR="10.0.0.1")
        unknown = log_in(client, "nobody@acme.example.com", "not-the-password", REMOTE_ADDR="10.0.0.2")
    assert known.status_code == unknown.status_code == 429
    csrf = re.compile(r'"X-CSRFToken": "[^"]*"')
    assert csrf.sub("", main_html(known)) == csrf.sub("", main_html(unknown))
    assert LOCKED in main_html(known)
    assert world.admin_a.email not in known.content.decode()
    assert "nobody@acme.example.com" not in unknown.content.decode()


def test_a_successful_login_resets_the_failure_count(world, client):
    for _ in range(4):
        log_in(client, world.admin_a.email, "not-the-password")
    assert log_in(client, world.admin_a.email).status_code == 302
    client.logout()
    for _ in range(4):
        assert log_in(client, world.admin_a.email, "not-the-password").status_code == 200
    assert log_in(client, world.admin_a.email).status_code == 302


def test_logout_is_a_post_that_ends_the_session(world, client):
    client.force_login(world.admin_a)
    assert client.get("/accounts/logout/").status_code == 405
    assert is_logged_in(client)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not is_logged_in(client)


def test_every_page_has_a_logout_form(world, client):
    client.force_login(world.admin_a)
    html = client.get("/").content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/">.*?Log out</button></form>', html)


# --- Password change ---------------------------------------------------------------------------------


def test_password_change_requires_the_old_password(world, client):
    client.force_login(world.admin_a)
    assert client.get("/accounts/password/change/").status_code == 200
    new = "a-fresh-passphrase-42"
    response = client.post(
        "/accounts/password/change/",
        {"old_password": "not-the-password", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert errors(response) == ["Your old password was entered incorrectly. Please enter it again."]
    world.admin_a.refresh_from_db()
    assert world.admin_a.check_password(factories.PASSWORD)


def test_password_change_checks_the_new_password(world, client):
    client.force_login(world.admin_a)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": factories.PASSWORD, "new_password1": "12345", "new_password2": "12345"},
    )
    assert errors(response) == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]


def test_after_a_password_change_only_the_new_password_works(world, client):
    client.force_login(world.admin_a)
    new = "a-fresh-passphrase-42"
    response = client.post(
        "/accounts/password/change/",
        {"old_password": factories.PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert response.redirect_chain == [("/", 302)]
    assert "Your password has been changed." in response.content.decode()
    assert is_logged_in(client)  # the session survives its own password change
    client.post("/accounts/logout/")
    assert errors(log_in(client, world.admin_a.email)) == [WRONG]
    assert log_in(client, world.admin_a.email, new).status_code == 302


def test_password_change_needs_a_login(client):
    response = client.get("/accounts/password/change/")
    assert response["Location"] == "/accounts/login/?next=/accounts/password/change/"


# --- Password reset ----------------------------------------------------------------------------------


def mail_body(message) -> str:
    return message.get_payload(decode=True).decode().replace("\r\n", "\n")


@pytest.mark.worker
def test_a_password_reset_mails_a_link_that_sets_a_new_password(world, client, celery_worker_process, smtp_server):
    response = client.post("/accounts/password/reset/", {"email": "Admin@Acme.example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    message = wait_for(lambda: smtp_server.messages and smtp_server.messages[0], message="the reset mail")
    assert message["To"] == world.admin_a.email
    assert message["Subject"] == "Reset your Scorecard password"
    body = mail_body(message)
    assert body.startswith("Hello Admin of acme,\n")
    links = re.findall(r"https?://\S+", body)
    assert len(links) == 1 and links[0].startswith("http://testserver/accounts/password/reset/")

    path = links[0].removeprefix("http://testserver")
    set_password_page = client.get(path, follow=True)
    assert "Set a new password" in set_password_page.content.decode()
    form_url = set_password_page.redirect_chain[-1][0]
    new = "a-fresh-passphrase-42"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response["Location"] == "/accounts/password/reset/complete/"
    assert "Your new password is set." in client.get("/accounts/password/reset/complete/").content.decode()

    assert errors(log_in(client, world.admin_a.email)) == [WRONG]
    assert log_in(client, world.admin_a.email, new).status_code == 302
    client.post("/accounts/logout/")
    used_again = client.get(path, follow=True)
    assert "This link no longer works" in used_again.content.decode()
    assert len(smtp_server.messages) == 1


@pytest.mark.worker
def test_a_reset_for_an_unknown_email_answers_the_same_and_mails_nothing(
    world, client, celery_worker_process, smtp_server
):
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@acme.example.com"})
    known = client.post("/accounts/password/reset/", {"email": world.viewer_a.email})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"] == "/accounts/password/reset/sent/"
    sent_page = client.get("/accounts/password/reset/sent/").content.decode()
    assert "If an account uses that email address, we have sent it a link" in sent_page
    # The worker runs tasks in order: once the known address's mail is here, an unknown one would be too.
    wait_for(lambda: smtp_server.messages, message="the reset mail to the known address")
    assert [m["To"] for m in smtp_server.messages] == [world.viewer_a.email]


def test_a_password_reset_lifts_the_lockout_of_that_account(world, client):
    for _ in range(5):
        log_in(client, world.admin_a.email, "not-the-password", REMOTE_ADDR="10.0.3.1")
    assert log_in(client, world.admin_a.email, REMOTE_ADDR="10.0.3.1").status_code == 429
    uid = urlsafe_base64_encode(force_bytes(world.admin_a.pk))
    token = default_token_generator.make_token(world.admin_a)
    form_url = client.get(f"/accounts/password/reset/{uid}/{token}/")["Location"]
    new = "a-fresh-passphrase-42"
    assert client.post(form_url, {"new_password1": new, "new_password2": new}).status_code == 302
    assert log_in(client, world.admin_a.email, new, REMOTE_ADDR="10.0.3.1").status_code == 302


def test_a_forged_reset_link_is_refused(world, client):
    response = client.get("/accounts/password/reset/MQ/set-password/", follow=True)
    assert "This link no longer works" in response.content.decode()
    response = client.get("/accounts/password/reset/MQ/abc-def/", follow=True)
    assert "This link no longer works" in response.content.decode()


# --- Invitations -------------------------------------------------------------------------------------


def invite(world, email: str, role: str = Role.DEPARTMENT_HEAD, units=None) -> tuple[Invitation, str]:
    units = [world.department_a] if units is None and role == Role.DEPARTMENT_HEAD else units or []
    with organization_scope(world.org_a):
        return services.invitation_create(
            organization=world.org_a, email=email, role=role, units=units, invited_by=world.admin_a
        )


def membership(world, email: str) -> Membership | None:
    return Membership.objects.for_organization(world.org_a).filter(user__email=email).first()


@pytest.mark.worker
def test_the_invitation_mail_links_to_the_site_url(world, client, settings, celery_worker_process, smtp_server):
    settings.SITE_URL = "http://127.0.0.1:8002/"  # what `BSC_RUN_ADDRESS=127.0.0.1:8002 make run` sets
    _, token = invite(world, "new.person@example.com")
    message = wait_for(lambda: smtp_server.messages and smtp_server.messages[0], message="the invitation mail")
    assert message["Subject"] == "You are invited to Acme Manufacturing on Scorecard"
    links = re.findall(r"https?://\S+", mail_body(message))
    assert links == [f"http://127.0.0.1:8002/accounts/invitations/{token}/"]
    assert "Acme Manufacturing" in client.get(links[0].removeprefix("http://127.0.0.1:8002")).content.decode()


def test_a_new_person_accepts_an_invitation_and_is_logged_in(world, client):
    invitation, token = invite(world, "New.Person@Example.com")
    url = f"/accounts/invitations/{token}/"
    page = client.get(url).content.decode()
    assert "Admin of acme invited <strong>new.person@example.com</strong> to join Acme Manufacturing" in page
    assert "as <strong>department head</strong>" in page
    assert "Your units: Assembly" in page

    response = client.post(url, {"full_name": "New Person", "password1": "a-fresh-passphrase-42", "password2": "x"})
    assert errors(response) == ["The two passwords differ."]
    response = client.post(url, {"full_name": "", "password1": "new.person1", "password2": "new.person1"})
    assert errors(response) == ["This field is required.", "The password is too similar to the email."]
    assert not User.objects.filter(email="new.person@example.com").exists()

    response = client.post(
        url, {"full_name": " New Person ", "password1": "a-fresh-passphrase-42", "password2": "a-fresh-passphrase-42"}
    )
    assert response["Location"] == "/o/acme/"
    user = User.objects.get(email="new.person@example.com")
    assert user.full_name == "New Person"
    assert user.check_password("a-fresh-passphrase-42")
    joined = membership(world, "new.person@example.com")
    assert joined.role == Role.DEPARTMENT_HEAD
    with organization_scope(world.org_a):
        assert list(joined.units.all()) == [world.department_a]
    overview = client.get("/o/acme/").content.decode()
    assert "Welcome to Acme Manufacturing." in overview
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None

    used = client.get(url)
    assert used.status_code == 404
    assert "This invitation is not valid" in used.content.decode()


def test_an_existing_account_is_not_logged_in_by_the_invitation_link(world, client):
    person = factories.make_user("existing@example.com", full_name="Existing Person")
    invitation, token = invite(world, "Existing@Example.com", role=Role.COACH)
    url = f"/accounts/invitations/{token}/"
    page = client.get(url).content.decode()
    assert "Log in as existing@example.com to accept" in page
    assert f'href="/accounts/login/?next=%2Faccounts%2Finvitations%2F{token}%2F"' in page
    assert 'type="password"' not in page

    # Posting the link without logging in (with or without a password) neither joins nor logs in.
    response = client.post(url, {"full_name": "Intruder", "password1": "x-hijack-999", "password2": "x-hijack-999"})
    assert response.status_code == 200
    assert membership(world, person.email) is None
    assert not is_logged_in(client)
    person.refresh_from_db()
    assert person.check_password(factories.PASSWORD) and person.full_name == "Existing Person"

    response = client.post(LOGIN, {"username": person.email, "password": factories.PASSWORD, "next": url})
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert "You are logged in as existing@example.com." in page
    assert '<button type="submit">Join Acme Manufacturing</button>' in page
    response = client.post(url)
    assert response["Location"] == "/o/acme/"
    assert membership(world, person.email).role == Role.COACH
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_another_logged_in_account_cannot_accept_someone_elses_invitation(world, client):
    factories.make_user("existing@example.com")
    invitation, token = invite(world, "existing@example.com", role=Role.VIEWER)
    client.force_login(world.member_b)
    url = f"/accounts/invitations/{token}/"
    response = client.post(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"You are logged in as {world.member_b.email}, a different account." in page
    assert "Log out and log in as existing@example.com" in page
    assert membership(world, "existing@example.com") is None
    assert membership(world, world.member_b.email) is None

    response = client.post(
        "/accounts/logout/", {"next": f"/accounts/login/?next=%2Faccounts%2Finvitations%2F{token}%2F"}
    )
    assert response["Location"] == f"/accounts/login/?next=%2Faccounts%2Finvitations%2F{token}%2F"


def test_the_service_refuses_an_existing_account_without_its_login(world):
    factories.make_user("existing@example.com")
    invitation, _ = invite(world, "existing@example.com", role=Role.VIEWER)
    with pytest.raises(ValidationError, match="An account for existing@example.com already exists"):
        services.invitation_accept(invitation=invitation, password="a-fresh-passphrase-42", full_name="X")
    with pytest.raises(ValidationError, match="This invitation is for existing@example.com"):
        services.invitation_accept(invitation=invitation, user=world.viewer_a)
    assert membership(world, "existing@example.com") is None


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "accepted"])
def test_an_invalid_invitation_answers_404(world, client, state):
    invitation, token = invite(world, "late@example.com", role=Role.VIEWER)
    invitations = Invitation.objects.for_organization(world.org_a).filter(pk=invitation.pk)
    if state == "unknown":
        token = "not-a-real-token"
    elif state == "revoked":
        services.invitation_revoke(invitation=invitation)
    elif state == "expired":
        invitations.update(expires_at=timezone.now() - timedelta(minutes=1))
    else:
        invitations.update(accepted_at=timezone.now())
    url = f"/accounts/invitations/{token}/"
    for response in (
        client.get(url),
        client.post(
            url, {"full_name": "Late", "password1": "a-fresh-passphrase-42", "password2": "a-fresh-passphrase-42"}
        ),
    ):
        assert response.status_code == 404
        assert "This invitation is not valid" in response.content.decode()
    assert not User.objects.filter(email="late@example.com").exists()


# --- Personal API tokens -----------------------------------------------------------------------------


def bearer(key: str):
    request = Request(APIRequestFactory().get("/api/v1/", HTTP_AUTHORIZATION=f"Bearer {key}"))
    return PersonalTokenAuthentication().authenticate(request)


def test_a_personal_token_is_shown_once_listed_and_works(world, client):
    client.force_login(world.admin_a)
    response = client.post("/accounts/tokens/", {"name": "Excel import script"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    key = re.search(r'<code class="secret"[^>]*>(bsc_[\w-]+)</code>', page).group(1)
    assert "Copy it now: it won't be shown again." in page
    token = PersonalToken.objects.get(user=world.admin_a)
    assert token.name == "Excel import script"
    assert token.key_hash == PersonalToken.hash_key(key) and token.prefix == key[:8]
    assert bearer(key) == (world.admin_a, token)

    listing = client.get("/accounts/tokens/").content.decode()
    assert key not in listing
    assert '<code class="secret"' not in listing
    row = re.search(r"<tr>\s*<td>Excel import script</td>.*?</tr>", listing, re.S).group(0)
    assert f"<code>{key[:8]}…</code>" in row
    assert "Never" not in row  # the bearer call above used it
    assert 'aria-label="Revoke token Excel import script"' in row


def test_a_token_needs_a_name(world, client):
    client.force_login(world.admin_a)
    response = client.post("/accounts/tokens/", {"name": "  "})
    assert errors(response) == ["This field is required."]
    assert not PersonalToken.objects.exists()


def test_a_revoked_token_stops_working(world, client):
    token, key = services.personal_token_create(user=world.admin_a, name="Old script")
    client.force_login(world.admin_a)
    assert client.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert response.redirect_chain == [("/accounts/tokens/", 302)]
    assert "Token “Old script” revoked." in response.content.decode()
    assert "You have no tokens yet." in response.content.decode()
    assert not PersonalToken.objects.filter(pk=token.pk).exists()
    with pytest.raises(exceptions.AuthenticationFailed, match="Invalid or revoked token."):
        bearer(key)


def test_nobody_else_can_revoke_a_token(world, client):
    token, key = services.personal_token_create(user=world.admin_a, name="Mine")
    client.force_login(world.viewer_a)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert "Mine" not in client.get("/accounts/tokens/").content.decode()
    assert PersonalToken.objects.filter(pk=token.pk).exists()
    assert bearer(key)[0] == world.admin_a


def test_the_tokens_page_needs_a_login(client):
    assert client.get("/accounts/tokens/")["Location"] == "/accounts/login/?next=/accounts/tokens/"

"""Two-factor log-in (django-otp, bsc/two_factor.py): setting up an authenticator app, logging in with its
code or a recovery code, throttled wrong codes, recovery codes and turning it off, and organizations that
require it of their members (pages, the API by session, and personal tokens that keep working)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from bsc import services, two_factor
from bsc.models import Organization, Role
from tests import factories
from tests.integration.test_tenancy import url_patterns

LOGIN = "/accounts/login/"
VERIFY = "/accounts/login/verify/"
AFTER_LOGIN = "/switch/"  # LOGIN_REDIRECT_URL: the only organization, or the picker
WRONG_CODE = "That code is not right. Enter the code your app shows now, or an unused recovery code."


def errors(response) -> list[str]:
    html = response.content.decode()
    found = re.findall(
        r'<div class="form-errors" role="alert"><p>(.*?)</p></div>|<p class="error"[^>]*>(.*?)</p>', html
    )
    return [non_field or field for non_field, field in found]


def code_of(device: TOTPDevice) -> str:
    """The code the user's app shows now (the test's pinned clock is the app's clock too)."""
    device.refresh_from_db()
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)


def log_in(client, user, password: str = factories.PASSWORD):
    return client.post(LOGIN, {"username": user.email, "password": password})


def logged_in_as(client):
    response = client.get("/")
    return response.status_code == 200 and response.context["user"]


def turn_on(client, user) -> tuple[TOTPDevice, list[str]]:
    """Set up the authenticator through the pages, in a session logged in as `user`."""
    client.post("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/two-factor/confirm/", {"otp_token": code_of(device)})
    codes = re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())
    return device, codes


def with_two_factor(user) -> tuple[TOTPDevice, list[str]]:
    """Set up the authenticator through the services (for tests about what follows)."""
    device = two_factor.two_factor_setup_start(user=user)
    return device, two_factor.two_factor_setup_confirm(device=device)


# --- Setting it up -------------------------------------------------------------------------------------


def test_a_user_sets_up_an_authenticator_and_gets_ten_recovery_codes_once(world, client, pinned_clock):
    client.force_login(world.admin_a)
    page = client.get("/accounts/two-factor/").content.decode()
    assert "Set up two-factor authentication" in page
    client.post("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=world.admin_a)
    assert not device.confirmed
    page = client.get("/accounts/two-factor/")
    html = page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0, no-cache, no-store")
    assert re.search(r'<div class="qr-code"><svg [^>]*>.*</svg></div>', html, re.S)
    assert two_factor.secret_text(device) in html
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", two_factor.secret_text(device))
    assert "otpauth://totp/Scorecard%3Aadmin%40acme.example.com?secret=" in html
    assert "issuer=Scorecard" in html

    wrong = client.post("/accounts/two-factor/confirm/", {"otp_token": "000000"})
    assert errors(wrong) == [WRONG_CODE]
    assert not two_factor.user_has_two_factor(world.admin_a)
    pinned_clock.shift(timedelta(seconds=1))  # wrong codes are throttled here too

    confirmed = client.post("/accounts/two-factor/confirm/", {"otp_token": code_of(device)})
    codes = re.findall(r"<li><code>(\w+)</code></li>", confirmed.content.decode())
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    assert "They are shown only now." in confirmed.content.decode()
    assert two_factor.user_has_two_factor(world.admin_a)
    assert two_factor.session_verified(confirmed.wsgi_request)
    page = client.get("/accounts/two-factor/").content.decode()
    assert "Recovery codes left: <strong>10</strong> of 10." in page
    assert not any(code in page for code in codes)


def test_the_account_menu_leads_to_the_two_factor_page(world, client):
    client.force_login(world.viewer_a)
    assert '<a href="/accounts/two-factor/">Two-factor authentication</a>' in client.get("/").content.decode()


def test_the_two_factor_pages_need_a_login(client):
    assert client.get("/accounts/two-factor/")["Location"] == "/accounts/login/?next=/accounts/two-factor/"
    assert client.post("/accounts/two-factor/setup/")["Location"].startswith("/accounts/login/")


# --- Logging in ----------------------------------------------------------------------------------------


def test_the_full_round_trip_password_then_code_then_a_recovery_code_once(world, client, pinned_clock):
    client.force_login(world.admin_a)
    device, codes = turn_on(client, world.admin_a)
    client.post("/accounts/logout/")

    # The password alone logs in no one: the code page comes next.
    response = log_in(client, world.admin_a)
    assert response["Location"] == VERIFY
    assert not logged_in_as(client)
    assert "Open your authenticator app" in client.get(VERIFY).content.decode()
    assert errors(client.post(VERIFY, {"otp_token": "123456"})) == [WRONG_CODE]
    pinned_clock.shift(timedelta(seconds=30))  # the code used to turn it on may not be used again
    response = client.post(VERIFY, {"otp_token": code_of(device)})
    assert response["Location"] == AFTER_LOGIN
    assert logged_in_as(client) == world.admin_a
    assert two_factor.session_verified(client.get("/").wsgi_request)
    client.post("/accounts/logout/")

    # A recovery code, typed with a space and in capitals, works once.
    log_in(client, world.admin_a)
    spaced = f"{codes[0][:4]} {codes[0][4:]}".upper()
    assert client.post(VERIFY, {"otp_token": spaced})["Location"] == AFTER_LOGIN
    assert logged_in_as(client) == world.admin_a
    client.post("/accounts/logout/")
    log_in(client, world.admin_a)
    assert errors(client.post(VERIFY, {"otp_token": codes[0]})) == [WRONG_CODE]
    assert not logged_in_as(client)
    assert StaticToken.objects.filter(device__user=world.admin_a).count() == 9


def test_a_code_is_accepted_only_once(world, client, pinned_clock):
    device, _ = with_two_factor(world.admin_a)
    pinned_clock.shift(timedelta(seconds=30))
    log_in(client, world.admin_a)
    code = code_of(device)
    assert client.post(VERIFY, {"otp_token": code})["Location"] == AFTER_LOGIN
    client.post("/accounts/logout/")
    log_in(client, world.admin_a)
    assert errors(client.post(VERIFY, {"otp_token": code})) == [WRONG_CODE]


def test_the_login_follows_next_after_the_code(world, client, pinned_clock):
    device, _ = with_two_factor(world.admin_a)
    pinned_clock.shift(timedelta(seconds=30))
    client.post(LOGIN, {"username": world.admin_a.email, "password": factories.PASSWORD, "next": "/o/acme/"})
    assert client.post(VERIFY, {"otp_token": code_of(device)})["Location"] == "/o/acme/"


def test_wrong_codes_are_throttled_with_a_growing_wait(world, client, pinned_clock):
    device, _ = with_two_factor(world.admin_a)
    pinned_clock.shift(timedelta(seconds=30))
    log_in(client, world.admin_a)
    assert errors(client.post(VERIFY, {"otp_token": "000000"})) == [WRONG_CODE]
    assert errors(client.post(VERIFY, {"otp_token": "000000"})) == [
        "After 1 wrong code, wait a second before the next try."
    ]
    pinned_clock.shift(timedelta(seconds=1))
    assert errors(client.post(VERIFY, {"otp_token": "000001"})) == [WRONG_CODE]
    # Even the right code waits until the pause is over.
    assert errors(client.post(VERIFY, {"otp_token": code_of(device)})) == [
        "After 2 wrong codes in a row, wait a few seconds before the next try (the wait doubles with each wrong code)."
    ]
    pinned_clock.shift(timedelta(seconds=2))
    assert client.post(VERIFY, {"otp_token": code_of(device)})["Location"] == AFTER_LOGIN


def test_the_code_page_without_a_password_first_sends_to_the_login(world, client, pinned_clock):
    with_two_factor(world.admin_a)
    response = client.get(VERIFY, follow=True)
    assert response.redirect_chain == [(LOGIN, 302)]
    assert "Log in with your email and password first." in response.content.decode()
    log_in(client, world.admin_a)
    pinned_clock.shift(timedelta(minutes=11))  # the code must follow the password within ten minutes
    assert client.post(VERIFY, {"otp_token": "123456"})["Location"] == LOGIN


def test_users_without_two_factor_log_in_with_the_password_alone(world, client):
    response = log_in(client, world.viewer_a)
    assert response["Location"] == AFTER_LOGIN
    assert logged_in_as(client) == world.viewer_a


def test_django_admin_logs_in_through_the_product_login(world, client):
    response = client.get("/django-admin/login/?next=/django-admin/")
    assert response["Location"] == "/accounts/login/?next=/django-admin/"
    client.force_login(world.viewer_a)
    assert client.get("/django-admin/login/").status_code == 403


# --- Recovery codes and turning it off ----------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones_after_the_password(world, client):
    client.force_login(world.admin_a)
    _, old_codes = turn_on(client, world.admin_a)
    refused = client.post("/accounts/two-factor/recovery-codes/", {"password": "not-the-password"})
    assert refused.status_code == 400
    assert errors(refused) == ["That is not your password."]
    response = client.post("/accounts/two-factor/recovery-codes/", {"password": factories.PASSWORD})
    new_codes = re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert set(StaticToken.objects.filter(device__user=world.admin_a).values_list("token", flat=True)) == set(new_codes)


def test_turning_it_off_takes_the_password_and_removes_every_code(world, client):
    client.force_login(world.admin_a)
    turn_on(client, world.admin_a)
    assert errors(client.post("/accounts/two-factor/disable/", {"password": "nope"})) == ["That is not your password."]
    assert two_factor.user_has_two_factor(world.admin_a)
    response = client.post("/accounts/two-factor/disable/", {"password": factories.PASSWORD}, follow=True)
    assert "Two-factor authentication is off." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=world.admin_a).exists()
    assert not StaticToken.objects.filter(device__user=world.admin_a).exists()
    client.post("/accounts/logout/")
    assert log_in(client, world.admin_a)["Location"] == AFTER_LOGIN


def test_it_cannot_be_turned_off_while_an_organization_requires_it(world, client):
    client.force_login(world.admin_a)
    turn_on(client, world.admin_a)
    Organization.objects.filter(pk=world.org_a.pk).update(require_two_factor=True)
    response = client.post("/accounts/two-factor/disable/", {"password": factories.PASSWORD})
    assert errors(response) == [
        "Acme Manufacturing requires two-factor authentication, so it stays on while you are a member."
    ]
    assert two_factor.user_has_two_factor(world.admin_a)


# --- Organizations that require it ----------------------------------------------------------------------

SETTINGS = {
    "name": "Acme Manufacturing",
    "time_zone": "UTC",
    "fiscal_year_start_month": 1,
    "green_threshold": 90,
    "amber_threshold": 60,
    "red_requires_comment": "on",
    "reminder_hour": 8,
    "data_entry_day": 10,
}


def test_an_admin_requires_it_on_the_settings_page_once_they_use_it_themselves(world, client):
    client.force_login(world.admin_a)
    url = "/o/acme/admin/settings/"
    assert 'name="require_two_factor"' in client.get(url).content.decode()
    response = client.post(url, {**SETTINGS, "require_two_factor": "on"})
    assert errors(response) == [
        "Turn on two-factor authentication for your own account first (account menu → Two-factor "
        "authentication), so that requiring it does not shut you out."
    ]
    world.org_a.refresh_from_db()
    assert not world.org_a.require_two_factor
    turn_on(client, world.admin_a)
    assert client.post(url, {**SETTINGS, "require_two_factor": "on"})["Location"] == url
    world.org_a.refresh_from_db()
    assert world.org_a.require_two_factor
    assert client.get(url).status_code == 200  # this session passed the second factor


def test_only_an_admin_may_change_the_requirement(world, client, member_of_role):
    for role in (Role.EXECUTIVE, Role.VIEWER):
        client.force_login(member_of_role(role))
        assert client.post("/o/acme/admin/settings/", {**SETTINGS, "require_two_factor": "on"}).status_code == 403
    world.org_a.refresh_from_db()
    assert not world.org_a.require_two_factor


@pytest.fixture
def acme_requires_two_factor(world):
    Organization.objects.filter(pk=world.org_a.pk).update(require_two_factor=True)
    world.org_a.refresh_from_db()


def test_a_member_without_a_second_factor_is_sent_to_set_it_up_and_then_gets_in(
    world, client, acme_requires_two_factor, pinned_clock
):
    assert log_in(client, world.viewer_a)["Location"] == AFTER_LOGIN
    response = client.get("/o/acme/kpis/")
    assert response["Location"] == "/accounts/two-factor/?next=%2Fo%2Facme%2Fkpis%2F"
    page = client.get(response["Location"]).content.decode()
    assert "Acme Manufacturing requires two-factor authentication. Set it up to continue." in page
    client.post("/accounts/two-factor/setup/", {"next": "/o/acme/kpis/"})
    device = TOTPDevice.objects.get(user=world.viewer_a)
    response = client.post("/accounts/two-factor/confirm/", {"otp_token": code_of(device), "next": "/o/acme/kpis/"})
    assert '<a class="button" href="/o/acme/kpis/">Continue</a>' in response.content.decode()
    assert client.get("/o/acme/kpis/").status_code == 200


def test_a_member_of_several_organizations_is_asked_only_by_the_one_requiring_it(
    world, client, acme_requires_two_factor
):
    factories.add_member(world.org_b, Role.VIEWER, user=world.viewer_a)
    client.force_login(world.viewer_a)
    assert client.get("/o/acme/").status_code == 302
    assert client.get("/o/globex/").status_code == 200


def test_an_older_session_of_a_user_with_a_second_factor_enters_a_code(
    world, client, acme_requires_two_factor, pinned_clock
):
    device, _ = with_two_factor(world.viewer_a)
    pinned_clock.shift(timedelta(seconds=30))
    client.force_login(world.viewer_a)  # logged in before the authenticator was set up
    response = client.get("/o/acme/")
    assert response["Location"] == "/accounts/login/verify/?next=%2Fo%2Facme%2F"
    verified = client.post(VERIFY + "?next=/o/acme/", {"otp_token": code_of(device), "next": "/o/acme/"})
    assert verified["Location"] == "/o/acme/"
    assert client.get("/o/acme/").status_code == 200


def test_an_htmx_request_is_sent_to_set_it_up_with_a_client_redirect(world, client, acme_requires_two_factor):
    client.force_login(world.viewer_a)
    response = client.get("/o/acme/kpis/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/two-factor/?next=%2Fo%2Facme%2Fkpis%2F"


def test_the_api_by_session_follows_the_rule_and_a_personal_token_keeps_working(
    world, client, acme_requires_two_factor
):
    client.force_login(world.viewer_a)
    response = client.get("/api/v1/o/acme/units/")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Acme Manufacturing requires two-factor authentication: log in with your second factor (or set it "
        "up under Account → Two-factor authentication), or use a personal API token."
    }
    client.logout()
    _, key = services.personal_token_create(user=world.viewer_a, name="Script")
    response = client.get("/api/v1/o/acme/units/", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert [unit["name"] for unit in response.json()["results"]] == ["Acme Manufacturing", "Operations", "Assembly"]


def test_a_verified_session_reaches_the_api(world, client, acme_requires_two_factor, pinned_clock):
    device, _ = with_two_factor(world.viewer_a)
    pinned_clock.shift(timedelta(seconds=30))
    log_in(client, world.viewer_a)
    client.post(VERIFY, {"otp_token": code_of(device)})
    assert client.get("/api/v1/o/acme/units/").status_code == 200


def test_every_page_and_api_of_the_organization_refuses_an_unverified_session(world, client, acme_requires_two_factor):
    client.force_login(world.admin_a)
    checked = []
    for name, kwarg_names in url_patterns():
        if "org_slug" not in kwarg_names:
            continue
        kwargs = {kwarg: world.company_a.pk for kwarg in kwarg_names} | {"org_slug": world.org_a.slug}
        url = reverse(name, kwargs=kwargs)
        answers = {client.get(url).status_code, client.post(url).status_code} - {405}  # GET- or POST-only
        assert answers == ({403} if url.startswith("/api/") else {302}), f"{url} ({name}) answered {answers}"
        checked.append(name)
    assert {"org_overview", "kpi_index", "admin_settings", "inbox", "api_org_unit-list"} <= set(checked)
    assert len(checked) > 50

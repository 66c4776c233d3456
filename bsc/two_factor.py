"""Two-factor log-in through django-otp: an authenticator app (TOTP) and ten one-time recovery codes.

The services turn a user's second factor on and off; the log-in's second step keeps the account that gave
the right password in the session (not logged in) until a code is verified; `session_verified` is what an
organization that requires two factors asks of a session (bsc.permissions.two_factor_satisfied).
"""

from __future__ import annotations

import time
from base64 import b32encode

import segno
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from bsc.models import Membership, User
from bsc.tenancy import dangerously_unscoped

RECOVERY_CODE_COUNT = 10
PENDING_SESSION_KEY = "two_factor_pending"
PENDING_SECONDS = 600  # the code must follow the password within ten minutes


# --- What a user has, what a session has -------------------------------------------------------------


def authenticator(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def user_has_two_factor(user: User) -> bool:
    """Whether the user logs in with a second factor (a confirmed authenticator app)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_verified(request: HttpRequest) -> bool:
    """Whether this session's log-in passed a second factor (django-otp's OTPMiddleware)."""
    user = request.user
    return bool(user.is_authenticated and getattr(user, "is_verified", lambda: False)())


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def device_for_code(user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The device a typed code is for: six digits come from the app, anything else is a recovery code."""
    if len(code) == 6 and code.isascii() and code.isdigit():
        return authenticator(user)
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def organizations_requiring(user: User) -> list[str]:
    """Names of the user's organizations that require two factors."""
    with dangerously_unscoped():  # the user's own memberships
        return list(
            Membership.objects.filter(user=user, organization__require_two_factor=True)
            .order_by("organization__name")
            .values_list("organization__name", flat=True)
        )


def secret_text(device: TOTPDevice) -> str:
    """The key as an app asks for it when typed in: base32, in groups of four."""
    key = b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn here (no image service sees the secret)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, title="QR code for your app")


# --- Services ------------------------------------------------------------------------------------------


@transaction.atomic
def two_factor_setup_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for the user; one left unconfirmed before is replaced."""
    if user_has_two_factor(user):
        raise ValidationError("Two-factor authentication is already on.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def two_factor_setup_confirm(*, device: TOTPDevice) -> list[str]:
    """Turn on an authenticator that has produced a right code (the form verified it); returns the
    recovery codes, which are shown once."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_regenerate(user=device.user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten new one-time recovery codes; the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    """Remove the authenticator and the recovery codes; refused while an organization of the user requires
    two factors."""
    requiring = organizations_requiring(user)
    if requiring:
        raise ValidationError(
            f"{', '.join(requiring)} requires two-factor authentication, so it stays on while you are a member."
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


# --- The log-in's second step --------------------------------------------------------------------------


def login_pending_start(request: HttpRequest, *, user: User, next_url: str) -> None:
    """Remember, in a fresh session, the account whose password was right, until its code is verified."""
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "next": next_url,
        "since": time.time(),
    }


def login_pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("since", 0) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=pending.get("user_id"), is_active=True).first()
    if user is None or not user_has_two_factor(user):
        return None
    user.backend = pending["backend"]
    return user


def login_pending_next(request: HttpRequest) -> str:
    return (request.session.get(PENDING_SESSION_KEY) or {}).get("next", "")


def login_complete(request: HttpRequest, *, user: User) -> None:
    """Log in the pending user whose code the form verified (`user.otp_device`), or mark a logged-in
    session as verified."""
    request.session.pop(PENDING_SESSION_KEY, None)
    if request.user.is_authenticated and request.user.pk == user.pk:
        otp_login(request, user.otp_device)
    else:
        auth_login(request, user, backend=user.backend)  # django-otp's signal handler records the device

"""Account pages: log in/out by email (with a second factor for those who set one up), password change and
reset, two-factor authentication, invitation acceptance, API tokens."""

from urllib.parse import urlencode

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from bsc import services, two_factor
from bsc.forms import (
    EmailAuthenticationForm,
    InvitationAcceptForm,
    PasswordConfirmForm,
    PasswordResetForm,
    PersonalTokenForm,
    TwoFactorCodeForm,
)
from bsc.models import User


class LoginView(auth_views.LoginView):
    # django-axes counts failures of this form's `username` (the email) together with the client address,
    # and answers 429 with registration/locked_out.html once the pair reaches AXES_FAILURE_LIMIT
    # (bsc/login_protection.py). An account with a second factor is not logged in yet: the code comes next.
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.user_has_two_factor(user):
            two_factor.login_pending_start(self.request, user=user, next_url=self.get_success_url())
            return redirect("login_verify")
        return super().form_valid(form)


@never_cache
def login_verify(request):
    """The log-in's second step: a code from the authenticator app or a recovery code. Also serves a session
    that logged in before its account had a second factor, when an organization now asks for one."""
    user, next_url = two_factor.login_pending_user(request), two_factor.login_pending_next(request)
    if user is None and request.user.is_authenticated and two_factor.user_has_two_factor(request.user):
        if two_factor.session_verified(request):
            return redirect(_safe_next(request) or settings.LOGIN_REDIRECT_URL)
        user, next_url = request.user, _safe_next(request)
    if user is None:
        messages.info(request, "Log in with your email and password first.")
        return redirect("login")
    form = TwoFactorCodeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        two_factor.login_complete(request, user=user)
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/login_verify.html", {"form": form, "next": next_url})


def django_admin_login(request, extra_context=None):
    """Stands in for Django admin's own log-in form (bsc/project/urls.py): to the product's log-in and its second step."""
    if request.user.is_authenticated:  # logged in but not staff: no log-in form there to become someone else
        raise PermissionDenied("Your account may not use Django's admin.")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, "Your password has been changed.")
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    # The same answer, the same work and so the same time for known and unknown addresses: the form only
    # queues a task with the address (no user enumeration).
    form_class = PasswordResetForm


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    extra_context = {"timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        # The lockout page sends people here: once they prove they own the mailbox and set a new
        # password, the failures counted against their email no longer hold them out (their IP's
        # failures on other emails still do).
        axes_reset(username=form.user.email)
        return super().form_valid(form)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    pass


@never_cache
def invitation_accept(request, token):
    """New people set their name and password and are logged in; an existing account must be logged in
    as itself first (the link alone never opens someone's account) and then joins with one button."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    if User.objects.filter(email__iexact=invitation.email).exists():
        return _invitation_accept_existing_account(request, invitation)
    return _invitation_accept_new_account(request, invitation)


def _invitation_accept_new_account(request, invitation):
    form = InvitationAcceptForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invitation_accept(
                invitation=invitation,
                password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return _welcome(request, membership)
    return render(
        request, "registration/invitation_accept.html", {"invitation": invitation, "mode": "new", "form": form}
    )


def _invitation_accept_existing_account(request, invitation):
    signed_in_as_invitee = request.user.is_authenticated and request.user.email.lower() == invitation.email.lower()
    errors = []
    if request.method == "POST" and signed_in_as_invitee:
        try:
            membership = services.invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as error:
            errors = error.messages
        else:
            return _welcome(request, membership)
    login_url = f"{reverse('login')}?{urlencode({'next': request.path})}"
    context = {
        "invitation": invitation,
        "mode": "confirm" if signed_in_as_invitee else "login",
        "errors": errors,
        "login_url": login_url,
    }
    return render(request, "registration/invitation_accept.html", context)


def _welcome(request, membership):
    messages.success(request, f"Welcome to {membership.organization.name}.")
    return redirect("org_overview", org_slug=membership.organization.slug)


@never_cache  # the page shows a new token's key once; no cache may keep it
@login_required
def personal_tokens(request):
    form = PersonalTokenForm(request.POST or None)
    new_key = new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token, new_key = services.personal_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = PersonalTokenForm()
    tokens = request.user.personal_tokens.all()
    context = {"form": form, "tokens": tokens, "new_key": new_key, "new_token": new_token}
    return render(request, "registration/personal_tokens.html", context)


@require_POST
@login_required
def personal_token_revoke(request, pk):
    token = get_object_or_404(request.user.personal_tokens, pk=pk)
    services.personal_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("personal_tokens")


# --- Two-factor authentication -----------------------------------------------------------------------


@never_cache  # the page shows the secret key and, once, the recovery codes
@login_required
def two_factor_page(request):
    """Set up an authenticator app (QR code and key, confirmed with a code), or, once it is on: the
    recovery codes left, new recovery codes, turning it off."""
    user = request.user
    context = {
        "enabled": two_factor.user_has_two_factor(user),
        "requiring": two_factor.organizations_requiring(user),
        "next": _safe_next(request),
    }
    if context["enabled"]:
        context["codes_left"] = two_factor.recovery_codes_left(user)
        context["password_form"] = PasswordConfirmForm(user=user)
    else:
        pending = two_factor.authenticator(user, confirmed=False)
        if pending is not None:
            context |= _setup_context(pending, TwoFactorCodeForm(user=user, device=pending))
    return render(request, "registration/two_factor.html", context)


def _setup_context(device, form) -> dict:
    return {
        "pending": device,
        "qr_svg": two_factor.qr_code_svg(device),
        "secret": two_factor.secret_text(device),
        "config_url": device.config_url,
        "form": form,
    }


def _safe_next(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return next_url
    return ""


def _two_factor_redirect(request):
    next_url = _safe_next(request)
    url = reverse("two_factor")
    return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


@require_POST
@login_required
def two_factor_setup(request):
    try:
        two_factor.two_factor_setup_start(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _two_factor_redirect(request)


@never_cache
@require_POST
@login_required
def two_factor_confirm(request):
    """The first code from the app turns two-factor authentication on; the recovery codes are shown once."""
    device = two_factor.authenticator(request.user, confirmed=False)
    if device is None:
        return _two_factor_redirect(request)
    form = TwoFactorCodeForm(request.POST, user=request.user, device=device)
    if not form.is_valid():
        context = {"enabled": False, "next": _safe_next(request)} | _setup_context(device, form)
        return render(request, "registration/two_factor.html", context)
    codes = two_factor.two_factor_setup_confirm(device=device)
    otp_login(request, device)  # this session has just shown the second factor
    messages.success(request, "Two-factor authentication is on.")
    context = {"codes": codes, "next": _safe_next(request)}
    return render(request, "registration/two_factor_codes.html", context)


@never_cache
@require_POST
@login_required
def two_factor_codes_regenerate(request):
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not form.is_valid() or not two_factor.user_has_two_factor(request.user):
        return _two_factor_page_with_errors(request, form)
    codes = two_factor.recovery_codes_regenerate(user=request.user)
    messages.success(request, "New recovery codes made; the old ones no longer work.")
    return render(request, "registration/two_factor_codes.html", {"codes": codes})


@require_POST
@login_required
def two_factor_disable(request):
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not form.is_valid():
        return _two_factor_page_with_errors(request, form)
    try:
        two_factor.two_factor_disable(user=request.user)
    except ValidationError as error:
        form.add_error(None, error)
        return _two_factor_page_with_errors(request, form)
    messages.success(request, "Two-factor authentication is off.")
    return redirect("two_factor")


def _two_factor_page_with_errors(request, password_form):
    context = {
        "enabled": two_factor.user_has_two_factor(request.user),
        "requiring": two_factor.organizations_requiring(request.user),
        "codes_left": two_factor.recovery_codes_left(request.user),
        "password_form": password_form,
    }
    return render(request, "registration/two_factor.html", context, status=400)

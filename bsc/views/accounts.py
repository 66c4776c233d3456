"""Account pages: log in/out by email, password change and reset, invitation acceptance, API tokens."""

from urllib.parse import urlencode

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from bsc import services
from bsc.forms import EmailAuthenticationForm, InvitationAcceptForm, PasswordResetForm, PersonalTokenForm
from bsc.models import User


class LoginView(auth_views.LoginView):
    # django-axes counts failures of this form's `username` (the email) and client IP, and answers 429
    # with registration/locked_out.html once either reaches AXES_FAILURE_LIMIT.
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True


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

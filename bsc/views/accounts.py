"""Account pages: log in/out by email, password change and reset, invitation acceptance, API tokens."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from bsc import services
from bsc.forms import EmailAuthenticationForm, InvitationAcceptForm, PasswordResetForm, PersonalTokenForm


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, "Your password has been changed.")
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    # Django's reset view answers the same for known and unknown addresses: no user enumeration.
    form_class = PasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    pass


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    pass


def invitation_accept(request, token):
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invitation_accept(
                invitation=invitation,
                password=form.cleaned_data.get("password1") or "",
                full_name=form.cleaned_data.get("full_name") or "",
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to {membership.organization.name}.")
            return redirect("org_overview", org_slug=membership.organization.slug)
    return render(request, "registration/invitation_accept.html", {"form": form, "invitation": invitation})


@login_required
def personal_tokens(request):
    form = PersonalTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = services.personal_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = PersonalTokenForm()
    tokens = request.user.personal_tokens.all()
    return render(request, "registration/personal_tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@require_POST
@login_required
def personal_token_revoke(request, pk):
    token = get_object_or_404(request.user.personal_tokens, pk=pk)
    services.personal_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("personal_tokens")

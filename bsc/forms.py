"""Forms of the core app: validation at the edge, then the services validate again."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.template import loader

from bsc.models import User
from bsc.tasks import email_send


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        # One message for unknown email and wrong password alike: no user enumeration.
        "invalid_login": "That email and password do not match an account. Both are case-sensitive for the password.",
        "inactive": "That email and password do not match an account. Both are case-sensitive for the password.",
    }


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(max_length=150, required=False, label="Your name")
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        self.existing_user = User.objects.filter(email=invitation.email).first()
        if self.existing_user is not None:
            # An existing account joins with its own password; nothing to set.
            for name in ("full_name", "password1", "password2"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if self.existing_user is None:
            if data.get("password1") != data.get("password2"):
                self.add_error("password2", "The two passwords differ.")
            elif data.get("password1"):
                candidate = User(email=self.invitation.email, full_name=data.get("full_name", ""))
                try:
                    password_validation.validate_password(data["password1"], candidate)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return data


class PersonalTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, label="Token name", help_text="What the token is for, e.g. “Excel import script”."
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form (same answer for known and unknown emails), mailing through Celery."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_send.delay(subject=subject, body=body, recipients=[to_email])

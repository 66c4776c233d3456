"""Forms of the core app: validation at the edge, then the services validate again."""

import calendar
import functools
import zoneinfo
from decimal import Decimal

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.template import loader
from django.utils.translation import ngettext_lazy
from django_otp.forms import OTPAuthenticationFormMixin

from bsc import two_factor
from bsc.models import Organization, OrgUnit, Role, User
from bsc.publish import task_publish_on_commit
from bsc.selectors import member_user_list, org_unit_tree
from bsc.tasks import password_reset_send


def add_service_error(form: forms.Form, error: ValidationError, field_for=None) -> None:
    """Show a service's refusal on a form (any app's page): on the field it names when the form has that
    field, else above the form. `field_for(name)` maps a service's field name to the form's when they differ."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target = field_for(name) if field_for else name
        form.add_error(target if target in form.fields else None, errors)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        # One message for unknown email, wrong password and inactive account alike: no user enumeration.
        "invalid_login": "That email and password do not match an account.",
        "inactive": "That email and password do not match an account.",
    }

    def clean_username(self):
        # Emails are stored lowercased; django-axes also counts failures under this cleaned value, so
        # "Ann@x" and "ann@x" share one lockout counter.
        return self.cleaned_data["username"].lower()


class InvitationAcceptForm(forms.Form):
    """A new person's name and password. An invitee who already has an account does not use this
    form: they log in as that account and accept with one button."""

    full_name = forms.CharField(
        max_length=150, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        help_text="At least 8 characters; not a common password, not only digits, not like your name or email.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
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
    """Django's reset form, whose page only queues the address: whether an account uses it is found out by
    the Celery task (bsc.tasks.password_reset_send), so known and unknown addresses cost the page the same
    work and time (no user enumeration by timing)."""

    def save(self, *, request, use_https, **options):
        # With the mail queue down the page still answers as usual (the person asks again if no mail comes).
        task_publish_on_commit(
            password_reset_send, email=self.cleaned_data["email"], domain=request.get_host(), use_https=use_https
        )


class PasswordResetMailForm(auth_forms.PasswordResetForm):
    """What the reset task runs: Django's look-up of the active accounts using the address and its one-use
    link, mailed at once (the task is already off the request)."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[to_email])


class TwoFactorCodeForm(OTPAuthenticationFormMixin, forms.Form):
    """One box for the second factor: a 6-digit code from the authenticator app or a recovery code.
    django-otp verifies it against the matching device and throttles wrong codes per device."""

    otp_token = forms.CharField(
        label="Code",
        max_length=40,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "off", "spellcheck": "false"}
        ),
    )
    wrong_code = "That code is not right. Enter the code your app shows now, or an unused recovery code."
    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": "Enter the code from your authenticator app, or a recovery code.",
        "invalid_token": wrong_code,
        "device_required": wrong_code,
        "n_failed_attempts": ngettext_lazy(
            "After %(failure_count)d wrong code, wait a second before the next try.",
            "After %(failure_count)d wrong codes in a row, wait a few seconds before the next try "
            "(the wait doubles with each wrong code).",
            "failure_count",
        ),
    }

    def __init__(self, *args, user: User, device=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = device  # set: only this device's codes count (confirming a new authenticator)

    def clean(self):
        data = super().clean()
        code = "".join(data.get("otp_token", "").split()).replace("-", "").lower()
        data["otp_token"] = code
        device = self.device if self.device is not None else two_factor.device_for_code(self.user, code)
        data["otp_device"] = device.persistent_id if device is not None else None
        self.clean_otp(self.user)
        return data


class PasswordConfirmForm(forms.Form):
    """The account's password again, before a change to its second factor."""

    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


# --- Organization admin: members, invitations, units, settings ---------------------------------------


def _unit_choices(units) -> list[tuple[int, str]]:
    """Units in tree order, indented by depth (non-breaking spaces survive in <option> text)."""
    return [(unit.pk, "\u00a0\u00a0\u00a0" * unit.depth + unit.name) for unit in units]


class PerspectiveWeightsForm(forms.Form):
    """The weights of a map's perspectives, one field each (`weight-<id>`), in the map's band order."""

    def __init__(self, *args, perspectives, **kwargs):
        super().__init__(*args, **kwargs)
        for perspective in perspectives:
            self.fields[f"weight-{perspective.pk}"] = forms.DecimalField(
                label=perspective.name,
                min_value=0,
                max_digits=6,
                decimal_places=2,
                initial=f"{perspective.weight:f}".rstrip("0").rstrip("."),  # 1.00 shows as 1, 1.50 as 1.5
                widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
            )

    def weights(self) -> dict[int, Decimal]:
        return {int(name.removeprefix("weight-")): value for name, value in self.cleaned_data.items()}


class UnitSelect(forms.Select):
    """A select of units whose `disabled_values` are listed (the tree stays readable) but not choosable."""

    def __init__(self, *args, disabled_values=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values = {str(value) for value in disabled_values}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.full_name} ({user.email})" if user.full_name else user.email


class MembershipForm(forms.Form):
    """A member's role and, for department heads, the units they work on."""

    role = forms.ChoiceField(choices=Role.choices)
    units = forms.ModelMultipleChoiceField(
        queryset=OrgUnit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"}),
        help_text="Only for department heads: they work on these units and every unit below them.",
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = OrgUnit.objects.for_organization(organization)
        self.fields["units"].choices = _unit_choices(org_unit_tree(organization=organization))

    def clean(self):
        data = super().clean()
        if data.get("role") == Role.DEPARTMENT_HEAD and not data.get("units") and "units" not in self.errors:
            self.add_error("units", "A department head needs at least one unit.")
        return data


class InvitationForm(MembershipForm):
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))

    field_order = ["email", "role", "units"]

    def __init__(self, *args, organization: Organization, **kwargs):
        kwargs.setdefault("initial", {"role": Role.VIEWER})
        super().__init__(*args, organization=organization, **kwargs)


class OrgUnitCreateForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")
    parent = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label="Parent unit", widget=UnitSelect)
    head = MemberChoiceField(queryset=User.objects.none(), required=False, label="Head", empty_label="No head yet")

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        tree = org_unit_tree(organization=organization)
        self.fields["parent"].queryset = OrgUnit.objects.for_organization(organization)
        self.fields["parent"].choices = _unit_choices(tree)
        if tree and "parent" not in self.initial:
            self.initial["parent"] = tree[0].pk
        self.fields["head"].queryset = member_user_list(organization=organization)


class OrgUnitEditForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")
    head = MemberChoiceField(queryset=User.objects.none(), required=False, label="Head", empty_label="No head")

    def __init__(self, *args, unit: OrgUnit, **kwargs):
        kwargs.setdefault("initial", {"name": unit.name, "head": unit.head_id})
        super().__init__(*args, **kwargs)
        self.fields["head"].queryset = member_user_list(organization=unit.organization)


class OrgUnitMoveForm(forms.Form):
    """The new parent; the unit itself and its sub-units are listed but disabled (the service refuses them)."""

    parent = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label="New parent unit", widget=UnitSelect)

    def __init__(self, *args, unit: OrgUnit, **kwargs):
        kwargs.setdefault("initial", {"parent": unit.parent_id})
        super().__init__(*args, **kwargs)
        tree = org_unit_tree(organization=unit.organization)
        field = self.fields["parent"]
        field.queryset = OrgUnit.objects.for_organization(unit.organization)
        field.choices = _unit_choices(tree)
        field.widget.disabled_values = {str(u.pk) for u in tree if u.path.startswith(unit.path)}


@functools.cache
def _time_zone_choices() -> tuple[tuple[str, str], ...]:
    zones = sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC")
    return tuple((zone, zone.replace("_", " ")) for zone in zones)


def _as_percent(fraction: Decimal) -> Decimal | int:
    value = fraction * 100
    return int(value) if value == value.to_integral_value() else value.quantize(Decimal("0.1"))


class PercentField(forms.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=100, max_digits=4, decimal_places=1, **kwargs)


class OrganizationSettingsForm(forms.Form):
    """Organization settings; thresholds are entered as percentages and stored as fractions."""

    name = forms.CharField(max_length=200, label="Organization name")
    time_zone = forms.ChoiceField(
        label="Time zone", help_text="Reminders go out, and days and months begin, in this time zone."
    )
    fiscal_year_start_month = forms.TypedChoiceField(
        coerce=int, choices=[(m, calendar.month_name[m]) for m in range(1, 13)], label="Fiscal year starts in"
    )
    green_threshold = PercentField(
        label="Green at or above (%)", help_text="A KPI whose score (progress to target) reaches this is green."
    )
    amber_threshold = PercentField(
        label="Amber at or above (%)", help_text="From here up to green a KPI is amber; below it, red."
    )
    red_requires_comment = forms.BooleanField(
        required=False,
        label="Ask for a cause and an action item when a value is red",
        help_text="On the data-entry page, in the API and in imports (which ask for the cause only).",
    )
    amber_requires_cause = forms.BooleanField(
        required=False, label="Ask for a cause and an action item when a value is amber too"
    )
    values_need_approval = forms.BooleanField(
        required=False,
        label="Approve the values department heads enter",
        help_text="Their values wait for the KPI's approver (its owner unless another is named) before they count in "
        "the scores; nobody approves their own values.",
    )
    reminder_hour = forms.TypedChoiceField(
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        label="Send reminders at",
        help_text="Local time in the organization's time zone; daily reminders and digests go out then.",
    )
    data_entry_day = forms.TypedChoiceField(
        coerce=int,
        choices=[(d, f"Day {d}") for d in range(1, 29)],
        label="KPI values due by",
        help_text="Day of the following month by which a month's KPI values count as entered on time.",
    )
    require_two_factor = forms.BooleanField(
        required=False,
        label="Require two-factor authentication",
        help_text=(
            "Members open this organization only after logging in with a code from an authenticator app; "
            "those without one are asked to set it up first. Personal API tokens keep working."
        ),
    )

    def __init__(self, *args, organization: Organization, user: User, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "name": organization.name,
                "time_zone": organization.time_zone,
                "fiscal_year_start_month": organization.fiscal_year_start_month,
                "green_threshold": _as_percent(organization.green_threshold),
                "amber_threshold": _as_percent(organization.amber_threshold),
                "red_requires_comment": organization.red_requires_comment,
                "amber_requires_cause": organization.amber_requires_cause,
                "values_need_approval": organization.values_need_approval,
                "reminder_hour": organization.reminder_hour,
                "data_entry_day": organization.data_entry_day,
                "require_two_factor": organization.require_two_factor,
            },
        )
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.user = user
        choices = list(_time_zone_choices())
        if organization.time_zone not in dict(choices):  # a legacy zone set elsewhere stays choosable
            choices.insert(0, (organization.time_zone, organization.time_zone))
        self.fields["time_zone"].choices = choices

    def clean_require_two_factor(self):
        required = self.cleaned_data["require_two_factor"]
        if required and not self.organization.require_two_factor and not two_factor.user_has_two_factor(self.user):
            raise forms.ValidationError(
                "Turn on two-factor authentication for your own account first (account menu → Two-factor "
                "authentication), so that requiring it does not shut you out."
            )
        return required

    def clean(self):
        data = super().clean()
        green, amber = data.get("green_threshold"), data.get("amber_threshold")
        if green is not None and amber is not None and amber >= green:
            self.add_error("amber_threshold", f"The amber threshold must be below the green threshold ({green}%).")
        return data

    def organization_fields(self) -> dict:
        """The cleaned values as Organization fields (percentages back to fractions)."""
        data = dict(self.cleaned_data)
        for name in ("green_threshold", "amber_threshold"):
            data[name] = data[name] / 100
        return data

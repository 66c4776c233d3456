"""The notification settings form: which reminders also come by email, and the person's time zone."""

from __future__ import annotations

from django import forms

from bsc.forms import _time_zone_choices
from bsc.models import Membership
from coaching.models import NotificationPreference


class NotificationSettingsForm(forms.Form):
    email_daily_digest = forms.BooleanField(required=False)
    email_sessions = forms.BooleanField(required=False)
    email_coach_weekly = forms.BooleanField(required=False)
    time_zone = forms.ChoiceField(
        required=False,
        label="Your time zone",
        help_text="The daily digest and the weekly coach digest reach you at the organization's reminder hour "
        "in this time zone. It applies to all your organizations.",
    )

    def __init__(self, *args, membership: Membership, preference: NotificationPreference, **kwargs):
        user, organization = membership.user, membership.organization
        kwargs.setdefault(
            "initial",
            {"time_zone": user.time_zone}
            | {name: getattr(preference, name) for name in NotificationPreference.EMAIL_FIELDS.values()},
        )
        super().__init__(*args, **kwargs)
        for name in NotificationPreference.EMAIL_FIELDS.values():
            self.fields[name].label = NotificationPreference._meta.get_field(name).verbose_name
        choices = [("", f"The organization's: {organization.time_zone.replace('_', ' ')}")]
        choices += list(_time_zone_choices())
        if user.time_zone and user.time_zone not in dict(choices):  # a zone set elsewhere stays choosable
            choices.insert(1, (user.time_zone, user.time_zone))
        self.fields["time_zone"].choices = choices

"""Forms of the coaching pages; the services validate again."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from bsc.forms import MemberChoiceField, _unit_choices
from bsc.models import Organization, OrgUnit, User
from bsc.selectors import member_user_list, org_unit_tree
from coaching.models import SessionKind


class MemberMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        return f"{user.full_name} ({user.email})" if user.full_name else user.email


class SessionScheduleForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none())
    kind = forms.ChoiceField(choices=SessionKind.choices, initial=SessionKind.MONTHLY_REVIEW)
    scheduled_at = forms.DateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="In the organization's time zone.",
    )
    participants = MemberMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"})
    )
    agenda = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["unit"].queryset = OrgUnit.objects.for_organization(organization)
        self.fields["unit"].choices = [("", "Choose a unit"), *_unit_choices(org_unit_tree(organization=organization))]
        self.fields["participants"].queryset = member_user_list(organization=organization)

    def clean_scheduled_at(self) -> datetime:
        value = self.cleaned_data["scheduled_at"]
        # The browser sends a wall-clock time: read it in the organization's time zone.
        naive = value.replace(tzinfo=None) if timezone.is_aware(value) else value
        return timezone.make_aware(naive, ZoneInfo(self.organization.time_zone))


class SessionNotesForm(forms.Form):
    agenda = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    notes = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, *italic*, lists with -, links as [text](https://…).",
    )  # fmt: skip
    wins = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    challenges = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ActionItemForm(forms.Form):
    title = forms.CharField(max_length=200)
    owner = MemberChoiceField(queryset=User.objects.none())
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Due date")

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = member_user_list(organization=organization)


class AttendanceForm(forms.Form):
    """Who of the session's participants attended; every participant is ticked to begin with."""

    attendees = MemberMultipleChoiceField(
        queryset=User.objects.none(), required=False, label="Who attended",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"}),
    )  # fmt: skip

    def __init__(self, *args, participants, **kwargs):
        if kwargs.get("initial") is None:
            kwargs["initial"] = {"attendees": [user.pk for user in participants]}
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = User.objects.filter(pk__in=[user.pk for user in participants])

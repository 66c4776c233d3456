"""Forms of the coaching pages; the services validate again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from bsc import org_calendar
from bsc.forms import MemberChoiceField, _unit_choices
from bsc.models import Organization, OrgUnit, User
from bsc.selectors import member_user_list, org_unit_tree
from coaching import services
from coaching.models import CadenceFrequency, SessionKind, Weekday, WeekOfMonth
from coaching.red_actions import owner_problem  # the red value's owner check, word for word
from coaching.selectors import action_item_owner_list
from kpis.causes import owner_choices


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
        return _local(self.organization, self.cleaned_data["scheduled_at"])


def _local(organization: Organization, value: datetime) -> datetime:
    # The browser sends a wall-clock time: read it in the organization's time zone.
    naive = value.replace(tzinfo=None) if timezone.is_aware(value) else value
    return timezone.make_aware(naive, org_calendar.zone(organization))


class SessionMoveForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label="New date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="In the organization's time zone.",
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_scheduled_at(self) -> datetime:
        return _local(self.organization, self.cleaned_data["scheduled_at"])


class CadenceForm(forms.Form):
    """A cadence's rule. Weekday and week of the month are not required here: the service names what is
    missing (the API gets the same message)."""

    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none())
    kind = forms.ChoiceField(choices=SessionKind.choices, initial=SessionKind.MONTHLY_REVIEW)
    coach = MemberChoiceField(queryset=User.objects.none())
    frequency = forms.ChoiceField(
        choices=CadenceFrequency.choices, initial=CadenceFrequency.MONTHLY,
        widget=forms.RadioSelect(attrs={"class": "radio-row"}),
    )  # fmt: skip
    weekday = forms.TypedChoiceField(
        choices=[("", "Choose a weekday"), *Weekday.choices], coerce=int, empty_value=None, required=False
    )
    week_of_month = forms.TypedChoiceField(
        label="Week of the month", choices=[("", "—"), *WeekOfMonth.choices], coerce=int, empty_value=None,
        required=False, help_text="Monthly cadences only: the 1st to 4th, or the last such weekday of the month.",
    )  # fmt: skip
    time_of_day = forms.TimeField(
        label="Time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), required=False,
        help_text="In the organization's time zone; it stays the same local time across daylight-saving changes.",
    )  # fmt: skip
    starts_on = forms.DateField(label="Starts on", widget=forms.DateInput(attrs={"type": "date"}), required=False)
    ends_on = forms.DateField(
        label="Ends on", widget=forms.DateInput(attrs={"type": "date"}), required=False, help_text="Optional."
    )
    participants = MemberMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"})
    )
    agenda = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Each generated session starts with this agenda.",
    )  # fmt: skip

    def __init__(self, *args, organization: Organization, may_choose_coach: bool, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.for_organization(organization)
        self.fields["unit"].choices = [("", "Choose a unit"), *_unit_choices(org_unit_tree(organization=organization))]
        members = member_user_list(organization=organization)
        self.fields["coach"].queryset = members
        self.fields["participants"].queryset = members
        if not may_choose_coach:
            del self.fields["coach"]  # a coach's cadences are their own
        if editing:
            del self.fields["unit"]  # a cadence stays with its unit


class SessionNotesForm(forms.Form):
    agenda = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    notes = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, *italic*, lists with -, links as [text](https://…).",
    )  # fmt: skip
    wins = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Markdown, as the notes."
    )
    challenges = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Markdown, as the notes."
    )


class ActionItemForm(forms.Form):
    """A new action item, or the title, owner and due date of one (`item`). The owner is chosen among the
    members who may own one (no viewers); a new item starts at a prompt that is refused when left."""

    title = forms.CharField(max_length=200, error_messages={"required": "Give the action item a title."})
    owner = MemberChoiceField(
        queryset=User.objects.none(), empty_label="Choose an owner",
        error_messages={"required": "Choose who owns this action item.",
                        "invalid_choice": "Choose an owner from the list: a member who may mark the item done."},
    )  # fmt: skip
    due_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Due date",
        error_messages={"required": "Choose a due date.", "invalid": "Enter the due date as a date, e.g. 2026-12-18."},
    )  # fmt: skip

    def __init__(self, *args, organization: Organization, item=None, **kwargs):
        if item is not None:
            kwargs.setdefault("initial", {"title": item.title, "owner": item.owner_id, "due_date": item.due_date})
        super().__init__(*args, **kwargs)
        owners = action_item_owner_list(organization=organization)
        self.fields["owner"].queryset = owners
        if item is not None and owners.filter(pk=item.owner_id).exists():
            self.fields["owner"].empty_label = None  # an item's owner is always set: no prompt to fall back to


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


class KpiActionItemForm(ActionItemForm):
    """A new action item of a KPI, from the KPI page's panel. The owner is one of the members who may own an item of
    the KPI's unit (bsc.permissions.may_own_action_item_of, as for a red value's action item), the KPI's owner first
    when they may; the item is due in two weeks to begin with."""

    DUE_IN_DAYS = 14

    def __init__(self, *args, organization: Organization, kpi, **kwargs):
        owners = owner_choices(organization=organization, units=[kpi.unit])[kpi.unit_id]
        ids = {user.pk for user in owners}
        kwargs.setdefault("auto_id", "kpi-action-%s")
        kwargs.setdefault(
            "initial",
            {
                "owner": kpi.owner_id if kpi.owner_id in ids else None,
                "due_date": org_calendar.today(organization) + timedelta(days=self.DUE_IN_DAYS),
            },
        )
        super().__init__(*args, organization=organization, **kwargs)
        self.organization, self.kpi = organization, kpi
        owner = self.fields["owner"]
        # Any member passes the field (another organization's id is refused with its message); clean_owner says why
        # one of them may not own this KPI's item. The list offers only those who may.
        owner.queryset = member_user_list(organization=organization)
        owner.choices = [("", owner.empty_label), *((user.pk, owner.label_from_instance(user)) for user in owners)]

    def clean_owner(self) -> User:
        owner = self.cleaned_data["owner"]
        problem = owner_problem(self.organization, self.kpi, owner.pk)
        if problem:
            raise forms.ValidationError(problem)
        return owner

    def clean_due_date(self):
        due_date = self.cleaned_data["due_date"]
        problem = services.due_date_problem(self.organization, due_date)
        if problem:
            raise forms.ValidationError(problem)
        return due_date

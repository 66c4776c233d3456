"""The form asking for a review pack: a unit, a kind of period and the period's first month."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from bsc import org_calendar
from bsc.models import Organization, OrgUnit
from bsc.selectors import org_unit_tree
from kpis.services import parse_period


class ReviewPackForm(forms.Form):
    unit = forms.TypedChoiceField(label="Unit", coerce=int)
    kind = forms.ChoiceField(
        label="Period", choices=[(org_calendar.MONTH, "Month"), (org_calendar.QUARTER, "Quarter"),
                                 (org_calendar.YEAR, "Fiscal year")],
    )  # fmt: skip
    period = forms.CharField(
        label="Starting with",
        max_length=10,
        help_text="The period's first month, YYYY-MM (a quarter or a fiscal year by its first month).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "2026-10", "autocomplete": "off"}),
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["unit"].choices = [
            (unit.pk, "\u2003" * unit.depth + unit.name) for unit in org_unit_tree(organization=organization)
        ]

    def clean_unit(self) -> OrgUnit:
        unit = OrgUnit.objects.for_organization(self.organization).filter(pk=self.cleaned_data["unit"]).first()
        if unit is None:
            raise ValidationError("Choose a unit of this organization.")
        return unit

    def clean_period(self):
        try:
            return parse_period(self.cleaned_data["period"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["period"]) from None

"""Forms of the KPI pages: KPI definitions, a year of targets, and one target's recalibration. They check what
the edge can (numbers, threshold order, band bounds, code in use); the services check again."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from bsc.forms import MemberChoiceField, PercentField
from bsc.models import Objective, OrgUnit, User
from bsc.selectors import member_user_list
from kpis import approval
from kpis import formula as formulas
from kpis.models import Aggregation, Direction, Frequency, Kpi, RollupMethod, Source
from kpis.services import parse_number


def plain(value: Decimal | None) -> str:
    """A stored Decimal as people write it: 100.000000 → '100', 0.500000 → '0.5'."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def as_percent(fraction: Decimal | None) -> str:
    return "" if fraction is None else plain(fraction * 100)


class NumberField(forms.CharField):
    """A number typed as text and read by `kpis.services.parse_number` (the same rules as data entry)."""

    def __init__(self, **kwargs):
        attrs = {"inputmode": "decimal", "autocomplete": "off", "maxlength": 40}
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return parse_number(text)
        except ValidationError as error:
            raise ValidationError(error.messages) from None


# --- KPI definition ----------------------------------------------------------------------------------


class ObjectiveChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, objective):
        return f"{objective.perspective.name} · {objective.name}"


class KpiChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, kpi):
        return f"{kpi.code} · {kpi.name}"


FIELDSETS = [
    ("What it measures", ["name", "code", "description", "objective", "measurement_unit", "decimals"]),
    ("How it scores", ["direction", "baseline", "band_low", "band_high", "band_tolerance",
                       "green_threshold", "amber_threshold", "weight"]),
    ("Where the values come from", ["frequency", "owner", "approver", "source", "formula", "rollup_method", "aligned_to",
                                    "time_aggregation"]),
]  # fmt: skip

# Fields shown only for some choices of another field (static/js/kpi_form.js hides the others).
SHOWN_FOR = {
    "band_low": ("direction", Direction.BAND),
    "band_high": ("direction", Direction.BAND),
    "band_tolerance": ("direction", Direction.BAND),
    "formula": ("source", Source.FORMULA),
    "rollup_method": ("source", Source.ROLLUP),
}


class KpiForm(forms.Form):
    """Every field of a KPI. Thresholds are percentages here and fractions in the model."""

    name = forms.CharField(max_length=160, label="Name")
    code = forms.CharField(
        max_length=40,
        label="Code",
        help_text="Short and unique in the organization, e.g. OTD or SALES.EU; formulas refer to KPIs by code.",
    )
    description = forms.CharField(
        required=False, max_length=4000, label="Description", widget=forms.Textarea(attrs={"rows": 3})
    )
    objective = ObjectiveChoiceField(
        queryset=Objective.objects.none(), required=False, label="Objective", empty_label="Not linked to an objective",
        help_text="The objective of this unit's strategy map that the KPI measures.",
    )  # fmt: skip
    measurement_unit = forms.CharField(
        required=False, max_length=20, label="Measurement unit", help_text="For example %, EUR, days."
    )
    decimals = forms.IntegerField(min_value=0, max_value=6, initial=1, label="Decimals shown")
    direction = forms.ChoiceField(choices=Direction.choices, initial=Direction.INCREASE, label="Direction")
    baseline = NumberField(
        required=False,
        label="Baseline",
        help_text="Where progress starts from (score 0); needed for increase and decrease KPIs.",
    )
    band_low = NumberField(required=False, label="Band: low bound")
    band_high = NumberField(required=False, label="Band: high bound")
    band_tolerance = NumberField(
        required=False,
        label="Band: tolerance",
        help_text="How far outside the band the score falls from 100% to 0%. Empty: 0 (outside the band is 0%).",
    )
    green_threshold = PercentField(
        required=False, label="Green at or above (%)", help_text="Leave empty to use the organization's setting."
    )
    amber_threshold = PercentField(
        required=False, label="Amber at or above (%)", help_text="Leave empty to use the organization's setting."
    )
    weight = forms.DecimalField(
        min_value=0, max_digits=6, decimal_places=2, initial=1, label="Weight",
        help_text="Its weight in the objective's score, relative to the other KPIs there.",
    )  # fmt: skip
    frequency = forms.ChoiceField(choices=Frequency.choices, initial=Frequency.MONTHLY, label="Frequency")
    owner = MemberChoiceField(
        queryset=User.objects.none(), required=False, label="Owner", empty_label="No owner",
        help_text="The person who enters its values.",
    )  # fmt: skip
    approver = MemberChoiceField(
        queryset=User.objects.none(), required=False, label="Approver", empty_label="The owner",
        help_text="Accepts the values department heads enter, when the organization asks for approval. Listed: the "
        "members who may enter this unit's values.",
    )  # fmt: skip
    source = forms.ChoiceField(choices=Source.choices, initial=Source.MANUAL, label="Source")
    formula = forms.CharField(
        required=False,
        max_length=500,
        label="Formula",
        help_text="Other KPIs' codes with + - * / and parentheses, e.g. (REV - COST) / REV * 100.",
    )
    rollup_method = forms.ChoiceField(
        choices=[("", "—"), *RollupMethod.choices], required=False, label="Roll-up method",
        help_text="How the values of the child units' KPIs aligned to this one are combined.",
    )  # fmt: skip
    aligned_to = KpiChoiceField(
        queryset=Kpi.objects.none(), required=False, label="Contributes to (parent unit's KPI)",
        empty_label="None",
    )  # fmt: skip
    time_aggregation = forms.ChoiceField(
        choices=Aggregation.choices, initial=Aggregation.AVERAGE, label="Quarter and year values",
        help_text="How the months add up in the quarter and year views.",
    )  # fmt: skip

    def __init__(self, *args, unit: OrgUnit, kpi: Kpi | None = None, **kwargs):
        self.unit, self.kpi, self.organization = unit, kpi, unit.organization
        if kpi is not None:
            kwargs.setdefault("initial", self.initial_from(kpi))
        super().__init__(*args, **kwargs)
        org = self.organization
        self.fields["objective"].queryset = (
            Objective.objects.for_organization(org)
            .filter(scorecard__unit=unit)
            .select_related("perspective")
            .order_by("perspective__order", "name")
        )
        self.fields["owner"].queryset = member_user_list(organization=org)
        self._approver_choices(kpi)
        current = kpi.aligned_to_id if kpi is not None else None  # stays choosable even when archived
        self.fields["aligned_to"].queryset = (
            Kpi.objects.for_organization(org)
            .filter(Q(archived_at__isnull=True) | Q(pk=current), unit_id=unit.parent_id)
            .order_by("code")
        )
        if unit.parent_id is None:
            self.fields["aligned_to"].help_text = "This unit has no parent unit."
            self.fields["aligned_to"].disabled = True
        green, amber = as_percent(org.green_threshold), as_percent(org.amber_threshold)
        self.fields["green_threshold"].help_text = f"Leave empty to use the organization's {green}%."
        self.fields["amber_threshold"].help_text = f"Leave empty to use the organization's {amber}%."
        for name, (controller, value) in SHOWN_FOR.items():
            self.fields[name].shown_for = (self[controller].auto_id, value)

    @staticmethod
    def initial_from(kpi: Kpi) -> dict:
        return {
            "name": kpi.name, "code": kpi.code, "description": kpi.description, "objective": kpi.objective_id,
            "measurement_unit": kpi.measurement_unit, "decimals": kpi.decimals, "direction": kpi.direction,
            "baseline": plain(kpi.baseline), "band_low": plain(kpi.band_low), "band_high": plain(kpi.band_high),
            "band_tolerance": plain(kpi.band_tolerance), "green_threshold": as_percent(kpi.green_threshold),
            "amber_threshold": as_percent(kpi.amber_threshold), "weight": plain(kpi.weight),
            "frequency": kpi.frequency, "owner": kpi.owner_id, "approver": kpi.approver_id, "source": kpi.source, "formula": kpi.formula,
            "rollup_method": kpi.rollup_method, "aligned_to": kpi.aligned_to_id,
            "time_aggregation": kpi.time_aggregation,
        }  # fmt: skip

    def _approver_choices(self, kpi: Kpi | None) -> None:
        """Those who may approve the unit's values (kpis/approval.py), and the KPI's current approver even when they
        may no longer (saving then says why, rather than dropping them silently)."""
        allowed = [user.pk for user in approval.approver_choices(organization=self.organization, unit=self.unit)]
        if kpi is not None and kpi.approver_id is not None:
            allowed.append(kpi.approver_id)
        field = self.fields["approver"]
        field.queryset = User.objects.filter(pk__in=allowed).order_by("full_name", "email")
        field.error_messages["invalid_choice"] = approval.approver_message(self.unit)

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in FIELDSETS]

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        others = Kpi.objects.for_organization(self.organization)
        if self.kpi is not None:
            others = others.exclude(pk=self.kpi.pk)
        if others.filter(code=code).exists():
            raise ValidationError("Another KPI of this organization already uses this code.")
        if self.kpi is not None and code != self.kpi.code:
            users = sorted(
                other_code
                for other_code, text in others.filter(source=Source.FORMULA).values_list("code", "formula")
                if self.kpi.code in _codes(text)
            )
            if users:
                raise ValidationError(
                    f"The formulas of {', '.join(users)} use the code {self.kpi.code}; change them first."
                )
        return code

    def clean(self):
        data = super().clean()
        org = self.organization
        green, amber = data.get("green_threshold"), data.get("amber_threshold")
        if "green_threshold" not in self.errors and "amber_threshold" not in self.errors:
            effective_green = green if green is not None else org.green_threshold * 100
            effective_amber = amber if amber is not None else org.amber_threshold * 100
            if effective_amber >= effective_green:
                whose = "" if green is not None else ", the organization's"
                field = "amber_threshold" if amber is not None else "green_threshold"
                message = (
                    f"The amber threshold must be below the green threshold ({plain(effective_green)}%{whose})."
                    if field == "amber_threshold"
                    else f"The green threshold must be above the amber threshold ({plain(effective_amber)}%, "
                    "the organization's)."
                )
                self.add_error(field, message)
        if data.get("direction") == Direction.BAND:
            low, high = data.get("band_low"), data.get("band_high")
            if low is None and "band_low" not in self.errors:
                self.add_error("band_low", "A band KPI needs a low bound.")
            if high is None and "band_high" not in self.errors:
                self.add_error("band_high", "A band KPI needs a high bound.")
            if low is not None and high is not None and low > high:
                self.add_error("band_high", f"The high bound must not be below the low bound ({plain(low)}).")
            tolerance = data.get("band_tolerance")
            if tolerance is not None and tolerance < 0:
                self.add_error("band_tolerance", "The tolerance cannot be negative.")
        if data.get("source") == Source.FORMULA and not (data.get("formula") or "").strip():
            self.add_error("formula", "A formula KPI needs a formula.")
        return data

    def kpi_fields(self) -> dict:
        """The cleaned values as KPI fields for `kpi_create` / `kpi_update`."""
        data = dict(self.cleaned_data)
        for name in ("green_threshold", "amber_threshold"):
            if data[name] is not None:
                data[name] = data[name] / 100
        if data["direction"] != Direction.BAND:
            data.update(band_low=None, band_high=None, band_tolerance=None)
        if data["source"] != Source.FORMULA:
            data["formula"] = ""
        data["formula"] = data["formula"].strip()
        if data["source"] != Source.ROLLUP:
            data["rollup_method"] = ""
        if self.fields["aligned_to"].disabled:
            data["aligned_to"] = None
        return data


def _codes(text: str) -> frozenset[str]:
    try:
        return formulas.parse(text).codes
    except formulas.FormulaError:
        return frozenset()


# --- Targets -----------------------------------------------------------------------------------------


class TargetYearForm(forms.Form):
    """A fiscal year's targets at once: the same value, a straight ramp from the baseline, or pasted values."""

    MODES = [
        ("same", "The same value every period"),
        ("ramp", "A straight ramp from the baseline to a year-end value"),
        ("values", "One value per period (paste them)"),
    ]

    fiscal_year = forms.IntegerField(
        min_value=2000, max_value=2100, label="Fiscal year", help_text="Named by the calendar year it starts in."
    )
    mode = forms.ChoiceField(choices=MODES, initial="same", widget=forms.RadioSelect, label="Set")
    value = NumberField(required=False, label="Target each period")
    year_end = NumberField(required=False, label="Year-end target")
    values = forms.CharField(
        required=False,
        max_length=2000,
        label="Values",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In period order, separated by spaces, tabs or new lines (copy a row or a column from a sheet).",
    )
    reason = forms.CharField(
        required=False,
        max_length=500,
        label="Reason for the change",
        help_text="Needed only when periods that already have a target get a new one.",
    )

    def __init__(self, *args, kpi: Kpi, periods: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.kpi = kpi
        self.fields["values"].label = f"Values ({periods})"
        if kpi.baseline is not None:
            self.fields["year_end"].help_text = f"The ramp starts from the baseline, {plain(kpi.baseline)}."

    def clean(self):
        data = super().clean()
        mode = data.get("mode")
        if mode == "same" and data.get("value") is None and "value" not in self.errors:
            self.add_error("value", "Enter the target value.")
        if mode == "ramp" and data.get("year_end") is None and "year_end" not in self.errors:
            self.add_error("year_end", "Enter the year-end value.")
        if mode == "values":
            tokens = re.split(r"\s+", (data.get("values") or "").strip())
            numbers, problems = [], []
            for position, token in enumerate(t for t in tokens if t):
                try:
                    numbers.append(parse_number(token))
                except ValidationError as error:
                    problems.append(f"Value {position + 1}: {' '.join(error.messages)}")
            if problems:
                self.add_error("values", problems)
            elif not numbers:
                self.add_error("values", "Paste the values, one per period.")
            data["numbers"] = numbers
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        mode = data["mode"]
        return {
            "fiscal_year": data["fiscal_year"],
            "mode": mode,
            "value": data.get("value") if mode == "same" else None,
            "year_end": data.get("year_end") if mode == "ramp" else None,
            "values": data.get("numbers") if mode == "values" else None,
            "reason": data.get("reason") or "",
        }

    def field_for_service_error(self, field: str) -> str | None:
        """The service names the target value "value" whatever the mode; show it where it was typed."""
        if field == "value":
            return {"same": "value", "ramp": "year_end", "values": "values"}.get(self.cleaned_data.get("mode"))
        return field if field in self.fields else None


class TargetRecalibrationForm(forms.Form):
    value = NumberField(label="New target")
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        error_messages={"required": "Say why the target changes; the reason is shown next to it."},
    )

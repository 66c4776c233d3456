"""KPI pages: the list of KPIs, their definitions, the KPI page with its chart, values and targets."""

from collections import defaultdict
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bsc import org_calendar
from bsc.access import get_org_unit_for_member, get_organization_for_editor, member_view
from bsc.forms import add_service_error
from bsc.permissions import Action, can
from bsc.selectors import org_unit_tree
from kpis import approval, period_close, services
from kpis.access import get_kpi_for_member, get_target_for_editor
from kpis.forecast_display import forecast_display
from kpis.forms import KpiForm, TargetRecalibrationForm, TargetYearForm
from kpis.kpi_display import kpi_page
from kpis.models import Measurement
from kpis.scorecard_display import recomputing_badge
from kpis.selectors import kpi_list, scores_recomputing
from kpis.services import parse_period

# --- KPI definitions, the KPI page and its targets ------------------------------------------------------


def _kpi_list_groups(organization, units, *, unit=None, archived=False) -> list[dict]:
    """The organization's KPIs grouped by unit, units in tree order."""
    by_unit = defaultdict(list)
    for kpi in kpi_list(organization=organization, unit=unit, archived=archived).order_by("code"):
        by_unit[kpi.unit_id].append(kpi)
    return [{"unit": u, "kpis": by_unit[u.pk]} for u in units if u.pk in by_unit]


@require_GET
@member_view
def kpi_index(request):
    organization = request.organization
    units = org_unit_tree(organization=organization)
    chosen = next((u for u in units if str(u.pk) == request.GET.get("unit", "")), None)
    archived = request.GET.get("archived") == "1"
    context = {
        "unit_choices": [(u.pk, "\u00a0\u00a0\u00a0" * u.depth + u.name) for u in units],
        "chosen": chosen,
        "archived": archived,
        "groups": _kpi_list_groups(organization, units, unit=chosen, archived=archived),
        "unit_query": f"unit={chosen.pk}&" if chosen else "",
    }
    return render(request, "kpis/kpi_index.html", context)


@require_http_methods(["GET", "POST"])
@member_view
def kpi_create(request):
    organization = get_organization_for_editor(request)
    unit_id = request.GET.get("unit", "")
    if not unit_id:  # first choose the unit: its objectives and parent KPIs are the form's choices
        units = org_unit_tree(organization=organization)
        choices = [(u.pk, "\u00a0\u00a0\u00a0" * u.depth + u.name) for u in units]
        return render(request, "kpis/kpi_form.html", {"unit_choices": choices})
    unit = get_org_unit_for_member(request, int(unit_id) if unit_id.isdigit() else 0, write=True)
    form = KpiForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        fields = form.kpi_fields()
        try:
            kpi = services.kpi_create(unit=unit, name=fields.pop("name"), code=fields.pop("code"), **fields)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"KPI {kpi.code} “{kpi.name}” created in {unit.name}.")
            return redirect("kpi_detail", org_slug=organization.slug, pk=kpi.pk)
    return render(request, "kpis/kpi_form.html", {"form": form, "unit": unit})


@require_http_methods(["GET", "POST"])
@member_view
def kpi_edit(request, pk: int):
    kpi = get_kpi_for_member(request, pk, write=True)
    form = KpiForm(request.POST or None, unit=kpi.unit, kpi=kpi)
    if request.method == "POST" and form.is_valid():
        try:
            services.kpi_update(kpi=kpi, **form.kpi_fields())
        except ValidationError as error:
            add_service_error(form, error)
            kpi.refresh_from_db()  # the service set the refused values on the instance
        else:
            messages.success(request, f"KPI {kpi.code} “{kpi.name}” saved.")
            return redirect("kpi_detail", org_slug=request.organization.slug, pk=kpi.pk)
    return render(request, "kpis/kpi_form.html", {"form": form, "unit": kpi.unit, "kpi": kpi})


@require_POST
@member_view
def kpi_archive(request, pk: int):
    kpi = get_kpi_for_member(request, pk, write=True)
    services.kpi_archive(kpi=kpi)
    messages.success(request, f"KPI {kpi.code} archived: it no longer takes values or counts in scores.")
    return redirect("kpi_detail", org_slug=request.organization.slug, pk=kpi.pk)


@require_POST
@member_view
def kpi_restore(request, pk: int):
    kpi = get_kpi_for_member(request, pk, write=True)
    services.kpi_restore(kpi=kpi)
    messages.success(request, f"KPI {kpi.code} restored.")
    return redirect("kpi_detail", org_slug=request.organization.slug, pk=kpi.pk)


def _until(request):
    try:
        return parse_period(request.GET["until"])
    except (KeyError, ValidationError):
        return None


def _kpi_page(request, kpi, *, year_form=None, recalibration=None):
    """The KPI page; a refused form (a year of targets, or one target's recalibration) is shown bound."""
    organization = request.organization
    page = kpi_page(kpi=kpi, organization=organization, until=_until(request))
    editor = can(request.membership, Action.EDIT_STRATEGY)
    fiscal_year = org_calendar.current_fiscal_year(organization)
    periods = len(services.kpi_periods(kpi, fiscal_year, organization))
    closes = period_close.kpi_period_closes(kpi, [row.period for row in page.rows])
    reviews = approval.kpi_value_reviews(kpi=kpi, membership=request.membership, periods=[r.period for r in page.rows])
    for row in page.rows:
        row.review = reviews.get(row.period)
    for row in page.rows:
        row.closed_note = period_close.closed_note(closes[row.period]) if row.period in closes else ""
    if editor:
        for row in page.rows:
            bound = (
                recalibration
                if recalibration and recalibration.target.pk == getattr(row.target_obj, "pk", None)
                else None
            )
            if row.target_obj is None or (row.closed_note and bound is None):  # a closed period takes no change
                continue
            row.form = bound.form if bound else TargetRecalibrationForm(prefix=f"t{row.target_obj.pk}")
            row.form_open = bound is not None
    context = {
        "page": page,
        "kpi": kpi,
        "editor": editor,
        "forecast": forecast_display(kpi=kpi, organization=organization),
        "year_form": year_form or TargetYearForm(kpi=kpi, periods=periods, initial={"fiscal_year": fiscal_year}),
        "recomputing": recomputing_badge(
            organization=organization,
            unit=kpi.unit,
            pending=scores_recomputing(organization=organization, unit=kpi.unit),
        ),
    }
    return render(request, "kpis/kpi_detail.html", context)


@require_GET
@member_view
def kpi_detail(request, pk: int):
    return _kpi_page(request, get_kpi_for_member(request, pk))


@require_POST
@member_view
def kpi_targets_set(request, pk: int):
    kpi = get_kpi_for_member(request, pk, write=True)
    organization = request.organization
    periods = len(services.kpi_periods(kpi, org_calendar.current_fiscal_year(organization), organization))
    form = TargetYearForm(request.POST, kpi=kpi, periods=periods)
    if form.is_valid():
        try:
            targets = services.target_set_year(kpi=kpi, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_error(form, error, field_for=form.field_for_service_error)
        else:
            year = form.cleaned_data["fiscal_year"]
            messages.success(request, f"Targets for fiscal year {year} set: {len(targets)} periods.")
            end = org_calendar.fiscal_year_end(year, organization.fiscal_year_start_month)
            url = reverse("kpi_detail", kwargs={"org_slug": organization.slug, "pk": kpi.pk})
            return redirect(f"{url}?until={end:%Y-%m}#targets")
    return _kpi_page(request, kpi, year_form=form)


@require_POST
@member_view
def target_recalibrate(request, pk: int, target_pk: int):
    kpi = get_kpi_for_member(request, pk, write=True)
    target = get_target_for_editor(request, kpi, target_pk)
    form = TargetRecalibrationForm(request.POST, prefix=f"t{target.pk}")
    if form.is_valid():
        try:
            services.target_recalibrate(
                target=target, value=form.cleaned_data["value"], reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            label = f"{target.period:%b %Y}"
            messages.success(request, f"Target for {label} recalibrated; the original is kept.")
            url = reverse("kpi_detail", kwargs={"org_slug": request.organization.slug, "pk": kpi.pk})
            until = _until(request)
            return redirect(f"{url}?until={until:%Y-%m}#values" if until else f"{url}#values")
    return _kpi_page(request, kpi, recalibration=SimpleNamespace(target=target, form=form))


def _value_for_review(request, pk: int, measurement_pk: int):
    kpi = get_kpi_for_member(request, pk)
    value = Measurement.objects.for_organization(request.organization).filter(kpi=kpi, pk=measurement_pk).first()
    if value is None:
        raise Http404("No such value.")
    return kpi, value


@require_POST
@member_view
def measurement_approve(request, pk: int, measurement_pk: int):
    kpi, value = _value_for_review(request, pk, measurement_pk)
    try:
        approval.measurement_approve(measurement=value, by=request.user, membership=request.membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{kpi.code} {value.period:%b %Y} approved: it counts in the scores now.")
    return redirect(reverse("kpi_detail", kwargs={"org_slug": request.organization.slug, "pk": kpi.pk}) + "#values")


@require_POST
@member_view
def measurement_return(request, pk: int, measurement_pk: int):
    kpi, value = _value_for_review(request, pk, measurement_pk)
    try:
        approval.measurement_return(
            measurement=value, comment=request.POST.get("return_comment", ""), by=request.user,
            membership=request.membership,
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{kpi.code} {value.period:%b %Y} returned to {value.entered_by.display_name}.")
    return redirect(reverse("kpi_detail", kwargs={"org_slug": request.organization.slug, "pk": kpi.pk}) + "#values")

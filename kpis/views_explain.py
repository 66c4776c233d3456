"""'Why this score?': a stored score's calculation as a page, or as the fragment the scorecard and KPI pages open in
place with htmx (kpis/explain.py does the work)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bsc import org_calendar
from bsc.access import member_view
from bsc.api.base import is_id
from bsc.permissions import Action, can
from kpis import explain as explainer

TEMPLATE = "kpis/score_explain.html"


def _request_explanation(request):
    """The explanation the query names, or an ExplainError naming what is wrong."""
    organization = request.organization
    level = request.GET.get("level", "")
    kind = request.GET.get("kind") or org_calendar.MONTH
    raw_id = request.GET.get("id", "")
    if not is_id(raw_id):
        raise explainer.ExplainError(
            f"“{raw_id[:40]}” is not the id of a score's owner: give ?id=<number>.", field="id"
        )
    try:
        period = org_calendar.parse_period(request.GET.get("period"))
    except ValueError as error:
        raise explainer.ExplainError(str(error), field="period") from None
    if level in explainer.LEVELS:
        unit = explainer.owner_unit(organization=organization, level=level, id=int(raw_id))
        if unit is not None and not can(request.membership, Action.READ, unit=unit):
            raise PermissionDenied("Your role may not read this unit's scores.")
    explanation = explainer.explain(organization=organization, level=level, id=int(raw_id), kind=kind, period=period)
    return explainer.with_links(explanation, organization.slug)


@require_GET
@member_view
def score_explain(request):
    try:
        explanation, error, status = _request_explanation(request), None, 200
    except explainer.ExplainError as refused:
        explanation, error, status = None, refused.message, 404 if refused.not_found else 400
    context = {"x": explanation, "error": error}
    if request.htmx:
        # htmx swaps only 2xx answers: a refusal comes back as a message in the panel
        return render(request, f"{TEMPLATE}#explanation", context)
    return render(request, TEMPLATE, context, status=status)

"""Pages that put together what several apps show (the project layer composes every app; docs/architecture.md,
"Layers"): the organization home lists the unit tree (bsc) with each unit's stored score for the month now due
(kpis) and the person's open action items (coaching); admins, executives and coaches land on the executive
dashboard instead (bsc/project/dashboard.py)."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from bsc import org_calendar
from bsc.access import member_view
from bsc.permissions import sees_dashboard_first
from bsc.project.dashboard import render_dashboard
from bsc.selectors import org_unit_lines
from bsc.statuses import STATUS_LABELS
from coaching.selectors import action_item_open_for_user
from kpis.models import PeriodKind
from kpis.scorecard_display import light, percent
from kpis.selectors import unit_score_statuses


@require_GET
@member_view
def org_overview(request):
    """The organization home: the executive dashboard for admins, executives and coaches; for department heads and
    viewers, their open action items and the unit tree with each unit's score."""
    if sees_dashboard_first(request.membership):
        return render_dashboard(request)
    organization = request.organization
    units = org_unit_lines(organization=organization)
    own_ids = {unit.pk for unit in request.membership.units.all()}
    month = org_calendar.due_month(organization)
    scores = unit_score_statuses(organization=organization, month=month)
    # Display values prepared here, one pass, and the list rendered by Jinja2 (templates/project/jinja/unit_scores.html):
    # the page serves 1,000 units.
    scorecard_url = reverse("scorecard_detail", args=[organization.slug, 0]).removesuffix("0/")
    query = f"?period={month:%Y-%m}"
    lights = {status: light(status) for status in (*STATUS_LABELS, None)}
    grey = lights[None]
    rows = []
    for unit in units:
        score, status = scores.get(unit.id, (None, None))
        shown = grey if score is None else lights.get(status, grey)
        rows.append((unit, f"{scorecard_url}{unit.id}/{query}", percent(score), shown))
    context = {
        "rows": rows,
        "own_units": [unit for unit in units if unit.id in own_ids],
        "month": month,
        "month_label": org_calendar.period_label(PeriodKind.MONTH, month, organization.fiscal_year_start_month),
        "my_actions": action_item_open_for_user(organization=organization, user=request.user),
    }
    return render(request, "project/org_overview.html", context)

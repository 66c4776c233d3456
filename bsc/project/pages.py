"""Pages that put together what several apps show (the project layer composes every app; docs/architecture.md,
"Layers"): the organization home lists the unit tree (bsc) with each unit's stored score for the month now due
(kpis) and the person's open action items (coaching); admins, executives and coaches land on the executive
dashboard instead (bsc/project/dashboard.py)."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from bsc import org_calendar
from bsc.access import member_view
from bsc.jinja_partials import render_partial
from bsc.permissions import sees_dashboard_first
from bsc.project.dashboard import render_dashboard
from bsc.statuses import STATUSES
from coaching.selectors import action_item_open_for_user
from kpis.models import PeriodKind
from kpis.scorecard_display import light
from kpis.selectors import unit_score_lines


@require_GET
@member_view
def org_overview(request):
    """The organization home: the executive dashboard for admins, executives and coaches; for department heads and
    viewers, their open action items and the unit tree with each unit's score."""
    if sees_dashboard_first(request.membership):
        return render_dashboard(request)
    organization = request.organization
    month = org_calendar.due_month(organization)
    # Rows prepared by the selector in one query and rendered by Jinja2 (templates/project/jinja/unit_scores.html),
    # once per process for the same rows (render_partial_memoized; hence tuples): the page serves 1,000 units.
    lines = unit_score_lines(organization=organization, month=month, membership=request.membership)
    context = {
        "rows": tuple(lines),
        "lights": tuple(
            (status, render_partial("project/jinja/light.html", light=light(status))) for status in STATUSES
        ),
        "scorecard_url": reverse("scorecard_detail", args=[organization.slug, 0]).removesuffix("0/"),
        "query": f"?period={month:%Y-%m}",
        "own_units": [line for line in lines if line.own],
        "month": month,
        "month_label": org_calendar.period_label(PeriodKind.MONTH, month, organization.fiscal_year_start_month),
        "my_actions": action_item_open_for_user(organization=organization, user=request.user),
    }
    return render(request, "project/org_overview.html", context)

"""The report of KPIs to review, so that unused KPIs can be archived."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from bsc import org_calendar
from bsc.access import member_view
from bsc.permissions import Action, can
from kpis.selectors import kpi_review_list


@require_GET
@member_view
def kpi_review(request):
    rows = kpi_review_list(organization=request.organization, today=org_calendar.today(request.organization))
    return render(
        request,
        "kpis/kpi_review.html",
        {"rows": rows, "can_edit": can(request.membership, Action.EDIT_STRATEGY)},
    )

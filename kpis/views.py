"""KPI pages. Until KPIs exist these list the units whose scorecards and data entry they will hold."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from bsc.access import member_view
from bsc.selectors import org_unit_tree


@require_GET
@member_view
def scorecard_index(request):
    return render(request, "kpis/scorecard_index.html", {"units": org_unit_tree(organization=request.organization)})


@require_GET
@member_view
def kpi_index(request):
    return render(request, "kpis/kpi_index.html", {"units": org_unit_tree(organization=request.organization)})


@require_GET
@member_view
def data_entry(request):
    return render(request, "kpis/data_entry.html", {"units": org_unit_tree(organization=request.organization)})

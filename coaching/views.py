"""Coaching pages."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from bsc.access import member_view
from bsc.selectors import org_unit_tree


@require_GET
@member_view
def coaching_index(request):
    return render(request, "coaching/index.html", {"units": org_unit_tree(organization=request.organization)})

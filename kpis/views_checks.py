"""The cascade consistency checklist (issue 18) and the evidence table of a map's cause-effect links: pages that
only read. Everyone who reads maps and KPIs may read them (DESIGN.md section 8, "read dashboards and maps"); the
fix links lead to pages that check their own permissions."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from bsc.access import member_view
from bsc.permissions import Action, can
from kpis.checks import consistency_checks


@require_GET
@member_view
def consistency_checklist(request):
    rules = consistency_checks(organization=request.organization)
    return render(
        request,
        "kpis/checks.html",
        {
            "rules": rules,
            "total": sum(rule.count for rule in rules),
            "can_edit": can(request.membership, Action.EDIT_STRATEGY),
        },
    )

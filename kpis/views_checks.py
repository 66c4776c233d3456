"""The cascade consistency checklist (issue 18) and the evidence table of a map's cause-effect links: pages that
only read. Everyone who reads maps and KPIs may read them (DESIGN.md section 8, "read dashboards and maps"); the
fix links lead to pages that check their own permissions."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bsc.access import member_view
from bsc.permissions import Action, can
from bsc.selectors import scorecard_for_unit
from kpis import link_evidence
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


@require_GET
@member_view
def link_evidence_table(request, unit_id: int):
    scorecard = scorecard_for_unit(organization=request.organization, unit_id=unit_id)
    if scorecard is None:
        raise Http404("No such unit.")
    rows = link_evidence.link_evidence_list(organization=request.organization, scorecard_id=scorecard.pk)
    return render(
        request,
        "kpis/link_evidence.html",
        {
            "unit": scorecard.unit, "rows": rows, "window": link_evidence.evidence_window(request.organization),
            "few_pairs": link_evidence.FEW_PAIRS, "caution": link_evidence.CAUTION,
        },
    )  # fmt: skip

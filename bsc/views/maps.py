"""Strategy-map pages: the unit list, one unit's map (editor for admins and executives, read-only for
everyone else) and its SVG export."""

from csp.decorators import csp_update
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from bsc import events, map_svg
from bsc.access import member_view
from bsc.permissions import Action, can
from bsc.selectors import org_unit_tree, parent_objectives, scorecard_for_unit, strategy_map


def _scorecard_or_404(request, unit_id: int):
    scorecard = scorecard_for_unit(organization=request.organization, unit_id=unit_id)
    if scorecard is None:
        raise Http404("No such unit.")
    return scorecard


@require_GET
@member_view
def strategy_map_index(request):
    units = org_unit_tree(organization=request.organization)
    return render(request, "bsc/strategy_map_index.html", {"units": units})


@require_GET
@member_view
def strategy_map_page(request, unit_id: int):
    scorecard = _scorecard_or_404(request, unit_id)
    data = strategy_map(scorecard=scorecard)
    can_edit = can(request.membership, Action.EDIT_STRATEGY)
    context = {
        "scorecard": scorecard,
        "unit": scorecard.unit,
        "map": data,
        "map_json": {  # json_script encodes it (once)
            **data,
            "can_edit": can_edit,
            "parent_objectives": parent_objectives(scorecard=scorecard),
            "has_parent": scorecard.unit.parent_id is not None,
        },
        "svg": map_svg.render(data),
        "can_edit": can_edit,
        # beside the heading, what the apps built on the core say about the unit (kpis: "Recomputing…")
        "badges": events.unit_map_badges.send(organization=request.organization, unit=scorecard.unit),
    }
    return render(request, "bsc/strategy_map.html", context)


@require_GET
@csp_update({"sandbox": True})  # opened anyway (a saved file, a proxy that drops headers), it runs nothing
@member_view
def strategy_map_svg(request, unit_id: int):
    """The map as an SVG file: always a download (an SVG shown by the browser is a document that could run
    script), with the site's nosniff header (SECURE_CONTENT_TYPE_NOSNIFF)."""
    scorecard = _scorecard_or_404(request, unit_id)
    svg = map_svg.render(strategy_map(scorecard=scorecard), title=f"{scorecard.unit.name}: strategy map")
    response = HttpResponse(svg, content_type="image/svg+xml")
    filename = f"strategy-map-{slugify(scorecard.unit.name) or scorecard.unit.pk}.svg"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response

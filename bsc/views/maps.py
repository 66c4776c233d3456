"""Strategy-map pages: the unit list, one unit's map (editor for admins and executives, read-only for
everyone else) and its SVG export."""

from csp.decorators import csp_update
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from bsc import events, map_svg, strategy
from bsc.access import member_view
from bsc.forms import PerspectiveWeightsForm, add_service_error
from bsc.map_periods import KIND_CHOICES, map_period_choose, map_period_default, map_period_parse
from bsc.permissions import Action, can, require
from bsc.selectors import org_unit_tree, parent_objectives, perspective_list, scorecard_for_unit, strategy_map
from bsc.statuses import STATUS_COLOURS, STATUS_LABELS, STATUS_SHAPES, STATUSES

LEGEND = [
    {"status": s, "label": STATUS_LABELS[s], "shape": STATUS_SHAPES[s], "colour": STATUS_COLOURS[s]} for s in STATUSES
]


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


def _map_page(request, scorecard, weights_form: PerspectiveWeightsForm | None = None):
    choice = map_period_choose(request.organization, kind=request.GET.get("kind"), period=request.GET.get("period"))
    period = choice.period
    data = strategy_map(scorecard=scorecard, kind=period.kind, period=period.start)
    can_edit = can(request.membership, Action.EDIT_STRATEGY)
    evidence = {"links": {}, "url": ""}
    for answer in events.link_evidence.send(scorecard=scorecard):  # kpis: each arrow's evidence, for the overlay
        evidence["links"].update(answer["links"])
        evidence["url"] = evidence["url"] or answer["url"]
    if can_edit and weights_form is None:
        weights_form = PerspectiveWeightsForm(perspectives=perspective_list(scorecard=scorecard))
    context = {
        "scorecard": scorecard,
        "unit": scorecard.unit,
        "map": data,
        "map_json": {  # json_script encodes it (once)
            **data,
            "can_edit": can_edit,
            "parent_objectives": parent_objectives(scorecard=scorecard),
            "has_parent": scorecard.unit.parent_id is not None,
            "evidence": evidence["links"],
            "period": {
                "kind": period.kind,
                "period": f"{period.start:%Y-%m}",
                "label": period.label,
                "due_label": map_period_default(request.organization).label,  # the panel's KPI statuses are for it
            },
        },
        "svg": map_svg.render(data),
        "can_edit": can_edit,
        "weights_form": weights_form,
        "choice": choice,
        "period": period,
        "kinds": KIND_CHOICES,
        "legend": LEGEND,
        "evidence_url": evidence["url"],
        # beside the heading, what the apps built on the core say about the unit (kpis: "Recomputing…")
        "badges": events.unit_map_badges.send(organization=request.organization, unit=scorecard.unit),
    }
    return render(request, "bsc/strategy_map.html", context)


@require_GET
@member_view
def strategy_map_page(request, unit_id: int):
    return _map_page(request, _scorecard_or_404(request, unit_id))


@require_POST
@member_view
def strategy_map_weights(request, unit_id: int):
    """The perspective weights form under the map: every weight at once, or none with the reason on its field."""
    require(request.membership, Action.EDIT_STRATEGY)
    scorecard = _scorecard_or_404(request, unit_id)
    form = PerspectiveWeightsForm(request.POST, perspectives=perspective_list(scorecard=scorecard))
    if form.is_valid():
        try:
            strategy.perspective_weights_set(scorecard=scorecard, weights=form.weights())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, f"Perspective weights of {scorecard.unit.name} saved; its scores are being recomputed."
            )
            return redirect(f"{reverse('strategy_map', args=[request.organization.slug, unit_id])}#perspective-weights")
    return _map_page(request, scorecard, weights_form=form)


@require_GET
@csp_update({"sandbox": True})  # opened anyway (a saved file, a proxy that drops headers), it runs nothing
@member_view
def strategy_map_svg(request, unit_id: int):
    """The map as an SVG file for a period (?kind=&period=, as the page; default the month now due), with the
    period beside its title and a legend: always a download (an SVG shown by the browser is a document that could
    run script), with the site's nosniff header (SECURE_CONTENT_TYPE_NOSNIFF). A period that is malformed, before
    the organization's data or after the month now due is a 400 saying why."""
    scorecard = _scorecard_or_404(request, unit_id)
    try:
        period = map_period_parse(request.organization, kind=request.GET.get("kind"), period=request.GET.get("period"))
    except ValueError as refused:
        return HttpResponseBadRequest(str(refused), content_type="text/plain; charset=utf-8")
    svg = map_svg.render(
        strategy_map(scorecard=scorecard, kind=period.kind, period=period.start),
        title=f"{scorecard.unit.name}: strategy map",
        period=period.label,
        legend=True,
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    filename = f"strategy-map-{slugify(scorecard.unit.name) or scorecard.unit.pk}.svg"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response

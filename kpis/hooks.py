"""kpis' answers to the core's hooks (bsc/events.py) that are pieces of a bsc page; the others are selectors and
services. Subscribed in KpisConfig.ready()."""

from django.template.loader import render_to_string

from kpis.scorecard_display import recomputing_badge
from kpis.selectors import scores_recomputing


def unit_map_badge(*, organization, unit) -> str:
    """The strategy map's "Recomputing…" badge (bsc.events.unit_map_badges): empty unless the unit's stored
    scores wait for a recompute."""
    pending = scores_recomputing(organization=organization, unit=unit)
    badge = recomputing_badge(organization=organization, unit=unit, pending=pending)
    return render_to_string("kpis/includes/recomputing.html", {"recomputing": badge})

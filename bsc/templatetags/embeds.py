"""Panels that apps built on the core add to pages of lower apps, asked through a hook (bsc/events.py) so that a
page never names the app that answers: `{% load embeds %}{% evidence_panel "measurement" row.measurement_id %}`."""

from django import template
from django.utils.safestring import mark_safe

from bsc import events

register = template.Library()


@register.simple_tag(takes_context=True)
def evidence_panel(context, kind: str, pk, what: str = "") -> str:
    """The evidence files panel of a measurement, action item or session; empty without a subscriber."""
    request = context.get("request")
    if request is None or not pk:
        return ""
    # Each answer is HTML its subscriber rendered from its own template.
    return mark_safe("".join(events.evidence_panel.send(request=request, kind=kind, pk=pk, what=what)))

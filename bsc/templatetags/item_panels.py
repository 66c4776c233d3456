"""Panels that apps built on the core add to an item's page (bsc.events.item_panels; comments: the item's thread),
embedded with htmx so the page's app never imports theirs: `{% item_panels "kpi" kpi.pk %}` on a page,
`{% item_panel_urls "objective" %}` (a JSON list of addresses with "{pk}" in them) for a script that builds panels."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html_join

from bsc import events

register = template.Library()


def panel_addresses(organization, kind: str) -> list[str]:
    return [answer for answer in events.item_panels.send(organization=organization, kind=kind) if answer]


@register.simple_tag(takes_context=True)
def item_panels(context, kind: str, pk: int):
    """A placeholder per panel that loads it once the page is shown (and a plain link without script)."""
    organization = context.get("current_organization") or context["request"].organization
    urls = [address.replace("{pk}", str(int(pk))) for address in panel_addresses(organization, kind)]
    return format_html_join(
        "",
        '<div class="item-panel" hx-get="{}" hx-trigger="load" hx-swap="outerHTML">'
        '<p class="muted"><a href="{}">Loading…</a></p></div>',
        ((url, url) for url in urls),
    )


@register.simple_tag(takes_context=True)
def item_panel_urls(context, kind: str) -> str:
    organization = context.get("current_organization") or context["request"].organization
    return json.dumps(panel_addresses(organization, kind))

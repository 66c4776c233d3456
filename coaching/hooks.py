"""The coaching app's answers to the core's item panels (bsc.events.item_panels); subscribed in CoachingConfig.ready()."""

from django.urls import reverse


def kpi_actions_panel(*, organization, kind: str) -> str:
    """The address of a KPI's "Action items" panel, with "{pk}" for its id (bsc.events.item_panels)."""
    if kind != "kpi":
        return ""
    return reverse("coaching_kpi_actions", args=[organization.slug, 0]).removesuffix("/0/") + "/{pk}/"

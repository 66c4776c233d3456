"""The comments app's answers to the core's hooks (bsc/events.py); subscribed in CommentsConfig.ready()."""

from django.urls import reverse

from comments.targets import KINDS


def thread_panel(*, organization, kind: str) -> str:
    """The address of an item's thread, with "{pk}" for its id (bsc.events.item_panels)."""
    if kind not in KINDS:
        return ""
    return reverse("comment_thread", args=[organization.slug, kind, 0]).removesuffix("/0/") + "/{pk}/"

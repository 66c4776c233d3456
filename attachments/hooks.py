"""attachments' answers to the core's hooks (bsc/events.py): the files panel a measurement's, action item's or
session's page embeds. Subscribed in AttachmentsConfig.ready()."""

from django.template.loader import render_to_string

from attachments.models import TARGETS


def evidence_panel(*, request, kind: str, pk: int | None, what: str = "") -> str:
    """The placeholder that loads the files panel with htmx (the panel's view checks the organization and the
    role): a closed <details> in a measurement's table row, a section elsewhere. Runs no query."""
    if not pk or kind not in TARGETS:
        return ""
    context = {"slug": request.organization.slug, "kind": kind, "pk": pk, "lazy": kind == "measurement", "what": what}
    return render_to_string("attachments/embed.html", context)

"""Template context for the layout: the unread count of the inbox badge (read with the membership on pages under
/o/<slug>/; else one query, only when shown)."""

from __future__ import annotations

from coaching.selectors import notification_unread_count


def unread_count(request) -> int:
    """The user's unread notifications in the request's organization, counted once per request."""
    if not hasattr(request, "_unread_notifications"):
        request._unread_notifications = notification_unread_count(organization=request.organization, user=request.user)
    return request._unread_notifications


def inbox(request):
    if getattr(request, "organization", None) is None or not request.user.is_authenticated:
        return {}
    preloaded = getattr(getattr(request, "membership", None), "unread_notifications", None)
    if preloaded is not None:  # read with the membership by the access check (bsc.events.membership_annotations)
        return {"unread_notifications": preloaded}
    # A callable: the template calls it where the badge is drawn, so pages without the layout pay nothing.
    return {"unread_notifications": lambda: unread_count(request)}

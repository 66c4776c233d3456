"""The inbox of each organization (the user's notifications, newest first, marked read one by one or all
at once with htmx) and the notification settings page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bsc.access import member_view
from bsc.forms import add_service_error
from coaching import notifications
from coaching.access import get_notification_for_member
from coaching.context_processors import unread_count
from coaching.forms_notifications import NotificationSettingsForm
from coaching.models import NotificationPreference
from coaching.selectors import notification_list

PAGE_SIZE = 50


def _inbox_context(request) -> dict:
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(
        notification_list(organization=request.organization, user=request.user, unread_only=unread_only), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return {
        "page": page,
        "notifications": list(page.object_list),
        "unread_only": unread_only,
        "unread": unread_count(request),
    }


@require_GET
@member_view
def inbox(request):
    return render(request, "coaching/inbox.html", _inbox_context(request))


@require_POST
@member_view
def notification_read(request, pk):
    notification = get_notification_for_member(request, pk)
    notifications.notification_mark_read(notification=notification)
    if request.htmx:
        return render(
            request, "coaching/inbox.html#notification-read", {"n": notification, "unread": unread_count(request)}
        )
    return redirect("inbox", org_slug=request.organization.slug)


@require_POST
@member_view
def notifications_read_all(request):
    count = notifications.notification_mark_all_read(organization=request.organization, user=request.user)
    if request.htmx:
        return render(request, "coaching/inbox.html#inbox-list", _inbox_context(request))
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("inbox", org_slug=request.organization.slug)


@require_http_methods(["GET", "POST"])
@member_view
def notification_settings(request):
    membership = request.membership
    preference = notifications.notification_preference_get(membership=membership)
    form = NotificationSettingsForm(request.POST or None, membership=membership, preference=preference)
    if request.method == "POST" and form.is_valid():
        try:
            notifications.notification_settings_update(membership=membership, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Notification settings saved.")
            return redirect("notification_settings", org_slug=request.organization.slug)
    kinds = list(NotificationPreference.EMAIL_FIELDS.values())
    return render(request, "coaching/notification_settings.html", {"form": form, "kinds": kinds})

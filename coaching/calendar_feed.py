"""The per-member .ics feed of coaching sessions that calendar programs subscribe to (no login).

The link is `/calendar/<id>-<hmac>.ics`, the HMAC (SHA-256, salted, under SECRET_KEY) taken over the feed's
id and version. Nothing secret is stored, so the page can show the link at any time; "reset link" bumps the
version and every earlier link answers 404. Rotating SECRET_KEY invalidates every feed link as well.
See docs/cadences.md.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import icalendar
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from bsc.models import Membership, Organization, User
from bsc.tenancy import dangerously_unscoped
from coaching.digests import session_uid
from coaching.models import CalendarFeed, CoachingSession, SessionStatus

_SALT = "coaching.calendar_feed"
PAST = timedelta(days=92)  # about three months back
AHEAD = timedelta(days=183)  # about six months ahead
SESSION_LENGTH = timedelta(hours=1)  # sessions have no end time; calendars show them as an hour


def _mac(feed_id: int, version: int) -> str:
    return salted_hmac(_SALT, f"{feed_id}:{version}", algorithm="sha256").hexdigest()[:40]


def feed_token(feed: CalendarFeed) -> str:
    return f"{feed.pk}-{_mac(feed.pk, feed.version)}"


def calendar_feed_get(*, organization: Organization, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.for_organization(organization).filter(user=user).first()


@transaction.atomic
def calendar_feed_reset(*, organization: Organization, user: User) -> CalendarFeed:
    """Create the member's feed, or give it a new link (the old one stops working at once)."""
    feed, created = CalendarFeed.objects.for_organization(organization).get_or_create(
        organization=organization, user=user
    )
    if not created:
        feed = CalendarFeed.objects.for_organization(organization).select_for_update().get(pk=feed.pk)
        feed.version += 1
        feed.reset_at = timezone.now()
        feed.save(update_fields=["version", "reset_at"])
    return feed


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    """The feed this link opens, or None: a malformed, forged or reset link, or a user no longer a member."""
    feed_id, _, mac = token.partition("-")
    if not feed_id.isdigit() or not mac:
        return None
    # Keyed by a secret, not by an organization: the HMAC is checked before anything is used.
    with dangerously_unscoped():
        feed = CalendarFeed.objects.select_related("organization", "user").filter(pk=int(feed_id)).first()
        if feed is None or not constant_time_compare(mac, _mac(feed.pk, feed.version)):
            return None
        if (
            not feed.user.is_active
            or not Membership.objects.filter(organization=feed.organization_id, user=feed.user_id).exists()
        ):
            return None
    return feed


def feed_sessions(*, feed: CalendarFeed, now=None) -> list[CoachingSession]:
    """The member's sessions, as coach or participant, from three months back to six months ahead."""
    now = now or timezone.now()
    return list(
        CoachingSession.objects.for_organization(feed.organization_id)
        .filter(Q(coach=feed.user_id) | Q(participants=feed.user_id))
        .filter(scheduled_at__gte=now - PAST, scheduled_at__lte=now + AHEAD)
        .select_related("unit", "coach", "cadence")
        .distinct()
        .order_by("scheduled_at", "id")
    )


def feed_ics(*, feed: CalendarFeed, sessions: list[CoachingSession], link_for) -> bytes:
    """The VCALENDAR of the sessions; `link_for(session)` gives each session page's absolute URL."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Scorecard//Coaching sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Coaching · {feed.organization.name}")
    calendar.add("x-wr-timezone", "UTC")
    stamp = timezone.now().astimezone(UTC)
    for session in sessions:
        event = icalendar.Event()
        event.add("uid", session_uid(session.pk))  # stable across regenerations and moves
        event.add("dtstamp", stamp)
        event.add("dtstart", session.scheduled_at.astimezone(UTC))
        event.add("duration", SESSION_LENGTH)
        event.add("summary", f"{session.get_kind_display()} · {session.unit.name}")
        lines = [f"Coach: {session.coach.display_name}"]
        if session.cadence_id:
            lines.append(f"Part of: {session.cadence}")
        if session.agenda:
            lines += ["", session.agenda]
        url = link_for(session)
        lines += ["", url]
        event.add("description", "\n".join(lines))
        event.add("url", url)
        event.add("status", "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED")
        # Calendar programs take a changed time as an update only with a higher sequence.
        event.add("sequence", 1 if session.moved else 0)
        calendar.add_component(event)
    return calendar.to_ical()

"""Services for notifications: sending the email ones (the outbox), marking them read, and each member's
email preferences and time zone.

Sending contract (docs/reminders.md): a row is claimed with `SELECT ... FOR UPDATE SKIP LOCKED`, mailed, and
marked sent in the same transaction, one row per transaction. A worker killed before the SMTP server
accepted the message leaves the row unsent and unlocked (PostgreSQL rolls the transaction back when the
connection drops), so the next run sends it; two workers never hold the same row. Only a kill in the short
window between the server's "250 accepted" and the commit can mail a reminder twice; the Message-ID is
derived from the dedupe key, so such a twin carries the same Message-ID as the first and mail programs can
fold it away.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.mime.text import MIMEText
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bsc.models import Membership, Organization, User
from bsc.services import user_set_time_zone
from bsc.tenancy import dangerously_unscoped
from bsc.validation import validated_save
from coaching import digests
from coaching.models import Notification, NotificationChannel, NotificationPreference

MAX_ATTEMPTS = 8
MAX_RETRY_DELAY = timedelta(hours=6)


def message_id(notification: Notification) -> str:
    digest = hashlib.sha256(notification.dedupe_key.encode()).hexdigest()[:40]
    return f"<{digest}@{digests.site_host()}>"


def email_message(notification: Notification, connection=None) -> EmailMultiAlternatives:
    recipient = notification.recipient
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        to=[formataddr((recipient.full_name, recipient.email)) if recipient.full_name else recipient.email],
        connection=connection,
        headers={"Message-ID": message_id(notification), "Auto-Submitted": "auto-generated"},
    )
    if notification.html:
        message.attach_alternative(notification.html, "text/html")
    if notification.ics:
        invite = MIMEText(notification.ics, "calendar", "utf-8")
        invite.set_param("method", "REQUEST")
        invite.add_header("Content-Disposition", "attachment", filename="invite.ics")
        message.attach(invite)
    return message


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0  # attempts that failed (retried later unless given up)
    more: bool = False  # stopped at the limit with rows left


def _pending(now: datetime):
    return Notification.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        channel=NotificationChannel.EMAIL, sent_at__isnull=True, failed_at__isnull=True,
    )  # fmt: skip


def _record_failure(row: Notification, error: Exception, *, permanent: bool) -> None:
    now = timezone.now()
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.failed_at = now
    else:
        delay = timedelta(seconds=settings.REMINDER_RETRY_SECONDS * 2 ** (row.attempts - 1))
        row.next_attempt_at = now + min(delay, MAX_RETRY_DELAY)
    row.save(update_fields=["attempts", "last_error", "failed_at", "next_attempt_at"])


def _send_next(connection, after_id: int) -> tuple[Notification | None, str]:
    """Claim the next unsent email row (skipping rows another worker holds), mail it, mark it; one
    transaction. Returns the row and "sent", "failed" or "stop" (the SMTP connection is unusable)."""
    with transaction.atomic():
        row = (
            _pending(timezone.now())
            .filter(pk__gt=after_id)
            .select_related("recipient")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
            .first()
        )
        if row is None:
            return None, "done"
        try:
            connection.send_messages([email_message(row, connection)])
        except smtplib.SMTPRecipientsRefused as error:
            _record_failure(row, error, permanent=True)
            return row, "failed"
        except smtplib.SMTPResponseException as error:  # the server answered with an error code
            _record_failure(row, error, permanent=500 <= error.smtp_code < 600)
            return row, "stop" if error.smtp_code == 421 else "failed"
        except (smtplib.SMTPException, OSError) as error:  # connection lost or refused
            _record_failure(row, error, permanent=False)
            return row, "stop"
        # Accepted by the SMTP server: mark it before anything else can happen (the duplicate window).
        row.sent_at = timezone.now()
        row.attempts += 1
        row.last_error = ""
        row.save(update_fields=["sent_at", "attempts", "last_error"])
        return row, "sent"


def notifications_send(*, limit: int = 500) -> SendReport:
    """Mail up to `limit` unsent email notifications of every organization over one SMTP connection.
    Safe to run on several workers at once."""
    report = SendReport()
    with dangerously_unscoped():  # the outbox serves every organization; each row goes to its recipient
        if not _pending(timezone.now()).exists():
            return report
        connection = get_connection(fail_silently=False)
        connection.open()
        try:
            after_id = 0
            for _ in range(limit):
                row, outcome = _send_next(connection, after_id)
                if row is None:
                    return report
                after_id = row.pk
                if outcome == "sent":
                    report.sent += 1
                else:
                    report.failed += 1
                    if outcome == "stop":
                        return report
            report.more = _pending(timezone.now()).filter(pk__gt=after_id).exists()
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):  # a broken connection must not hide the outcome
                connection.close()
    return report


# --- Inbox -----------------------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.for_organization(notification.organization_id).filter(
            pk=notification.pk, read_at__isnull=True
        ).update(read_at=notification.read_at)
    return notification


def notification_mark_all_read(*, organization: Organization, user: User) -> int:
    return (
        Notification.objects.for_organization(organization)
        .filter(recipient=user, read_at__isnull=True)
        .update(read_at=timezone.now())
    )


# --- Preferences ----------------------------------------------------------------------------------------


def notification_preference_get(*, membership: Membership) -> NotificationPreference:
    """The member's preferences (defaults, unsaved, when they never changed them)."""
    preference = (
        NotificationPreference.objects.for_organization(membership.organization_id)
        .filter(membership=membership)
        .first()
    )
    return preference or NotificationPreference(organization_id=membership.organization_id, membership=membership)


@transaction.atomic
def notification_settings_update(
    *,
    membership: Membership,
    time_zone: str,
    email_daily_digest: bool,
    email_sessions: bool,
    email_coach_weekly: bool,
) -> NotificationPreference:
    """Save which reminders the member gets by email in this organization, and their time zone (one for
    all their organizations; empty means each organization's own)."""
    user_set_time_zone(user=membership.user, time_zone=time_zone)
    preference, _ = NotificationPreference.objects.for_organization(membership.organization_id).get_or_create(
        membership=membership, defaults={"organization_id": membership.organization_id}
    )
    preference.email_daily_digest = email_daily_digest
    preference.email_sessions = email_sessions
    preference.email_coach_weekly = email_coach_weekly
    validated_save(preference)
    return preference

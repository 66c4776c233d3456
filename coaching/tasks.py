"""Celery tasks of the coaching app: the reminder tick (beat, every 15 minutes) and the mail sender.

Neither is ever scheduled with an ETA or countdown: the tick asks PostgreSQL what is due now, and the
unique dedupe key, not beat or the broker, makes each reminder exist once (docs/reminders.md)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from coaching import notifications, reminders


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def reminders_tick() -> dict:
    """Record every reminder due now (all organizations) and queue the sending of the new mails. Safe to
    run twice, or on two workers at once: a reminder already recorded is not recorded again."""
    decision = reminders.reminders_decide()
    return {"written": dict(decision.written), "emails": decision.emails}


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def notifications_send(limit: int = 500) -> int:
    """Mail the unsent email notifications (a killed run's task comes back and finds what is left)."""
    report = notifications.notifications_send(limit=limit)
    if report.more:
        notifications_send.delay(limit=limit)
    return report.sent

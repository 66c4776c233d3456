"""Celery tasks of the core app: thin adapters around services."""

from celery import shared_task
from django.core.mail import send_mail


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5, acks_late=True)
def email_send(*, subject: str, body: str, recipients: list[str]) -> int:
    """Send one plain-text email over SMTP (invitations, password resets)."""
    return send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)

"""Celery tasks of the core app: thin adapters around services."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from bsc.login_protection import HISTORY

# The time limits of every task that works on one organization (settings TASK_SOFT_TIME_LIMIT and
# TASK_TIME_LIMIT, both below the broker's visibility timeout): `@shared_task(..., **PER_ORGANIZATION)`.
PER_ORGANIZATION = {"soft_time_limit": settings.TASK_SOFT_TIME_LIMIT, "time_limit": settings.TASK_TIME_LIMIT}


def publish_per_organization(task) -> int:
    """Publish `task(organization_id=…)` once per organization (a beat task's fan-out, so that no single run
    grows with the number of organizations); returns how many were published."""
    from bsc.models import Organization

    organization_ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    for organization_id in organization_ids:
        task.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5, acks_late=True)
def email_send(*, subject: str, body: str, recipients: list[str]) -> int:
    """Send one plain-text email over SMTP (invitations, password resets)."""
    return send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5, acks_late=True)
def password_reset_send(*, email: str, domain: str, use_https: bool) -> None:
    """Mail a password-reset link to each active account using this address; for an address no account
    uses, do nothing. The reset page only queued this, whichever the case."""
    from bsc.forms import PasswordResetMailForm  # bsc.forms queues this task

    form = PasswordResetMailForm({"email": email})
    if form.is_valid():
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name="registration/password_reset_subject.txt",
            email_template_name="registration/password_reset_email.txt",
        )


@shared_task(acks_late=True)
def queued_tasks_republish() -> int:
    """Beat, every minute: publish again the tasks of the work left queued for minutes (an import, a review pack:
    their publish failed with the broker down); returns how many (bsc/publish.py)."""
    from bsc.publish import queued_tasks_republish as republish

    return republish()


@shared_task
def login_failures_prune() -> int:
    """Forget failed log-ins older than the history the growing cool-off reads (django-axes keeps them)."""
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.reset_failure_logs(age_days=HISTORY.days + 1)

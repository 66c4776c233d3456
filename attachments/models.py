"""An evidence file: a PDF, image, office document or CSV added to a measurement, an action item or a coaching
session, kept under MEDIA_ROOT in the organization's folder with a random name and served only through a view
that checks the organization and the role (docs/features.md, "Evidence files")."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from bsc.models import Organization
from bsc.tenancy import OrgManager
from coaching.models import ActionItem, CoachingSession
from kpis.models import Measurement

# The things a file can be added to: the name used in URLs and the API, and the field holding it.
TARGETS: dict[str, str] = {"measurement": "measurement", "action-item": "action_item", "session": "session"}


def evidence_path(instance: EvidenceFile, filename: str) -> str:
    """`evidence/<organization id>/<random>.<extension of the sniffed type>`: nothing of the uploader's name
    reaches the disk, and one organization's files stay in one folder."""
    return f"evidence/{instance.organization_id}/{secrets.token_urlsafe(24)}.{instance.extension}"


class EvidenceFile(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    measurement = models.ForeignKey(
        Measurement, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence_files"
    )
    action_item = models.ForeignKey(
        ActionItem, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence_files"
    )
    session = models.ForeignKey(
        CoachingSession, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence_files"
    )
    file = models.FileField(upload_to=evidence_path, max_length=200)
    name = models.CharField(max_length=200, help_text="The name it was uploaded with (shown and offered on download).")
    content_type = models.CharField(max_length=100, help_text="The type sniffed from the content, not the name.")
    extension = models.CharField(max_length=8)
    size = models.PositiveBigIntegerField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    objects = OrgManager()

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(measurement__isnull=False, action_item__isnull=True, session__isnull=True)
                    | models.Q(measurement__isnull=True, action_item__isnull=False, session__isnull=True)
                    | models.Q(measurement__isnull=True, action_item__isnull=True, session__isnull=False)
                ),
                name="evidencefile_one_target",
                violation_error_message="An evidence file belongs to exactly one measurement, action item or session.",
            ),
        ]
        indexes = [models.Index(fields=["organization", "added_at"], name="evidencefile_org_added")]

    def __str__(self) -> str:
        return self.name

    @property
    def target_kind(self) -> str:
        return next(kind for kind, field in TARGETS.items() if getattr(self, f"{field}_id") is not None)

    @property
    def target_field(self) -> str:
        return TARGETS[self.target_kind]

    @property
    def target_id(self) -> int:
        return getattr(self, f"{self.target_field}_id")

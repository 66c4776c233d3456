"""Reads of evidence files that the pages and the API share."""

from __future__ import annotations

from django.db.models import QuerySet

from attachments.models import TARGETS, EvidenceFile


def evidence_files(*, organization, kind: str, target) -> QuerySet[EvidenceFile]:
    """The files of one measurement, action item or session, oldest first, with who added each."""
    return (
        EvidenceFile.objects.for_organization(organization)
        .filter(**{TARGETS[kind]: target})
        .select_related("added_by")
        .order_by("added_at", "id")
    )

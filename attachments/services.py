"""Adding and removing evidence files: the row and the file on disk both or neither."""

from __future__ import annotations

import logging
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import transaction

from attachments.models import TARGETS, EvidenceFile
from attachments.sniffing import short, sniff
from attachments.uploads import max_bytes, too_large_message

log = logging.getLogger(__name__)


def clean_name(name: str) -> str:
    """The uploaded name as shown and offered on download: its last path part, without control characters, at
    most 200 characters with its extension kept."""
    name = "".join(ch for ch in PurePath(name.replace("\\", "/")).name if ch.isprintable()).strip() or "file"
    if len(name) > 200:
        suffix = PurePath(name).suffix[:20]
        name = name[: 200 - len(suffix)] + suffix
    return name


def evidence_file_add(*, target, kind: str, upload, by) -> EvidenceFile:
    """Add `upload` (a Django UploadedFile) to `target`, a measurement, action item or coaching session of `kind`
    ("measurement", "action-item" or "session"). The size is checked before anything is read and the type from
    the content; the file is written first and removed again if the row is not saved, so neither stays alone."""
    name = clean_name(upload.name or "")
    if upload.size is None or upload.size > max_bytes():
        raise ValidationError(too_large_message(short(name)), code="size")
    found = sniff(upload, name)
    evidence = EvidenceFile(
        organization_id=target.organization_id,
        name=name,
        content_type=found.content_type,
        extension=found.extension,
        size=upload.size,
        added_by=by,
        **{TARGETS[kind]: target},
    )
    evidence.full_clean(exclude=["file"])
    try:
        # The outermost block (durable): its end is the commit, so a file written here whose row does not commit
        # is removed below, and a row is never committed without its file.
        with transaction.atomic(durable=True):
            evidence.file.save(name, upload, save=False)  # a random name under the organization's folder
            evidence.save()
    except BaseException:
        if evidence.file.name:
            evidence.file.storage.delete(evidence.file.name)
        raise
    return evidence


def evidence_file_remove(*, evidence: EvidenceFile) -> None:
    """Delete the row now and the file on disk once the transaction commits (a rollback keeps both)."""
    evidence.delete()  # the post_delete receiver removes the file on commit


def delete_file_on_commit(sender, instance: EvidenceFile, **kwargs) -> None:
    """post_delete of an EvidenceFile (also through a cascade from its measurement, item or session)."""
    storage, path = instance.file.storage, instance.file.name
    if not path:
        return

    def remove() -> None:
        try:
            storage.delete(path)
        except OSError:  # the row is gone either way; a stray file is only disk space
            log.warning("Could not remove the evidence file %s", path, exc_info=True)

    transaction.on_commit(remove)

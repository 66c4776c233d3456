"""Evidence files on measurements, action items and coaching sessions, served only through a scoped view."""

from django.apps import AppConfig
from django.db.models.signals import post_delete


class AttachmentsConfig(AppConfig):
    name = "attachments"
    verbose_name = "Evidence files"

    def ready(self) -> None:
        from attachments import hooks, services
        from attachments.models import EvidenceFile
        from bsc import events

        events.evidence_panel.subscribe(hooks.evidence_panel)
        # Also when a measurement, item or session goes and its files with it (a cascade).
        post_delete.connect(services.delete_file_on_commit, sender=EvidenceFile, dispatch_uid="evidence_file_on_disk")

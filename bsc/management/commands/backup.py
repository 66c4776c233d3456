"""Back up the installation into one archive: the database (pg_dump, custom format) and the uploaded files.

    python manage.py backup /backups/scorecard-2026-11-18.tar

Works on the embedded servers and on docker-compose's (docs/operations.md, "Backup and restore").
"""

from django.core.management.base import BaseCommand, CommandError

from bsc.project.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Write a backup archive (database dump, uploaded files and a manifest) to PATH."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The archive to write (a new .tar file; its folder must exist).")
        parser.add_argument(
            "--pg-bin",
            help="Folder of the pg_dump to use (default: PATH's with DATABASE_URL set, else the embedded server's).",
        )

    def handle(self, *args, path, pg_bin, **options):
        try:
            summary = backup_create(path, pg_bin=pg_bin)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backed up database {summary.database!r} ({summary.dump_bytes:,} bytes dumped) and "
            f"{summary.media_files} uploaded files ({summary.media_bytes:,} bytes) to {summary.path}."
        )

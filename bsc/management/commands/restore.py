"""Restore a backup archive made by `manage.py backup` into an empty database (and empty MEDIA_ROOT).

    python manage.py restore /backups/scorecard-2026-11-18.tar
    python manage.py migrate    # applies what the code has beyond the backup, if anything

A database that already holds tables is refused unless --force is given, which drops its public schema
(every table and its rows) in the restore's transaction: a failed restore keeps the old data, a successful one
replaces it (docs/operations.md).
"""

from django.core.management.base import BaseCommand, CommandError

from bsc.project.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup archive into the configured (empty) database and MEDIA_ROOT."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The archive written by `manage.py backup`.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore even into a database that holds tables: drop its public schema (all its data) first, "
            "and overwrite uploaded files of the same name.",
        )
        parser.add_argument(
            "--pg-bin",
            help="Folder of the pg_restore to use (default: PATH's with DATABASE_URL set, else the embedded server's).",
        )

    def handle(self, *args, path, force, pg_bin, **options):
        try:
            summary = backup_restore(path, force=force, pg_bin=pg_bin)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored {summary.path} into database {summary.database!r} ({summary.dump_bytes:,} bytes of dump) "
            f"and {summary.media_files} uploaded files ({summary.media_bytes:,} bytes). "
            "Run `manage.py migrate` if the code is newer than the backup."
        )

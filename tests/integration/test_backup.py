"""Backup and restore (`manage.py backup` / `manage.py restore`): a dump of the demo organization, restored
into an empty database on the same server, holds the same rows in every table: stored scores, history
(pghistory events) and notifications included; the uploaded files come back too."""

from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from coaching.models import CoachingSession, Notification
from coaching.reminders import reminders_decide
from kpis.models import KpiScore, Measurement, ScorecardScore


def _connect(name: str) -> psycopg.Connection:
    db = connections["default"].settings_dict
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None, dbname=name,
        autocommit=True,
    )  # fmt: skip


@pytest.fixture
def throwaway_database(transactional_db):
    """An empty database next to this test process's own (`test_bsc_gw<n>_restore`), dropped afterwards."""
    name = f"{connections['default'].settings_dict['NAME']}_restore"
    with _connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_contents(name: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows (in a fixed order)."""
    with _connect(name) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {
            table: conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) FROM \"{table}\" t"
            ).fetchone()
            for table in sorted(tables)
        }


def files_under(root) -> dict:
    return {path.relative_to(root): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def run(command: str, *args: str, database: str | None = None) -> str:
    """Run a management command, on another database of the same server when `database` is given."""
    out = StringIO()
    connection = connections["default"]
    original = connection.settings_dict["NAME"]
    connection.close()
    if database:
        connection.settings_dict["NAME"] = database
    try:
        call_command(command, *args, stdout=out)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
    return out.getvalue()


def test_a_restored_demo_holds_the_same_scores_history_notifications_and_files(throwaway_database, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", stdout=StringIO())  # with an evidence file (a PDF) on a KPI value
    decision = reminders_decide(queue_sending=False)
    assert decision.emails > 0
    uploads = files_under(tmp_path / "media")
    assert len(uploads) >= 1
    source = connections["default"].settings_dict["NAME"]
    archive = tmp_path / "scorecard.tar"

    output = run("backup", str(archive))

    assert output.startswith(f"Backed up database '{source}' (")
    size = sum(len(content) for content in uploads.values())
    assert output.endswith(f"and {len(uploads)} uploaded files ({size:,} bytes) to {archive}.\n")
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    output = run("restore", str(archive), database=throwaway_database)
    assert output.startswith(f"Restored {archive} into database '{throwaway_database}' (")

    before, after = table_contents(source), table_contents(throwaway_database)
    assert after == before
    for model in (KpiScore, ScorecardScore, Measurement.pgh_event_model, CoachingSession.pgh_event_model, Notification):
        count, _ = after[model._meta.db_table]
        assert count > 0, model._meta.db_table
    assert files_under(tmp_path / "restored-media") == uploads

    # A database that holds tables is refused, and changes nothing; --force replaces what it holds.
    with pytest.raises(CommandError, match=rf"^The database '{throwaway_database}' is not empty \(\d+ tables: "):
        run("restore", str(archive), database=throwaway_database)
    notifications = Notification._meta.db_table
    with _connect(throwaway_database) as conn:
        conn.execute(f"DELETE FROM {notifications}")
        conn.execute(STOP_CREATING_NOTIFICATIONS)
    edited = table_contents(throwaway_database)
    # A --force restore that fails after dropping the old tables leaves them as they were.
    with pytest.raises(CommandError, match=r"^psql failed \(exit 3\): psql:<stdin>:\d+: ERROR:  stopped by the test"):
        run("restore", "--force", str(archive), database=throwaway_database)
    assert table_contents(throwaway_database) == edited
    assert edited[notifications][0] == 0
    with _connect(throwaway_database) as conn:
        conn.execute("DROP SCHEMA guard CASCADE")
    run("restore", "--force", str(archive), database=throwaway_database)
    assert table_contents(throwaway_database) == before


# An event trigger (in a schema of its own, which dropping `public` leaves alone) failing the restore midway.
STOP_CREATING_NOTIFICATIONS = f"""
CREATE SCHEMA guard;
CREATE FUNCTION guard.stop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = 'public.{Notification._meta.db_table}')
  THEN RAISE EXCEPTION 'stopped by the test';
  END IF;
END $$;
CREATE EVENT TRIGGER stop_notifications ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION guard.stop();
"""


def test_it_refuses_a_file_that_is_not_a_backup(throwaway_database, tmp_path):
    not_a_backup = tmp_path / "notes.tar"
    import tarfile

    with tarfile.open(not_a_backup, "w") as archive:
        archive.add(__file__, arcname="notes.py")

    with pytest.raises(
        CommandError, match=rf"^{not_a_backup} is not a backup of this product: it has no manifest.json$"
    ):
        run("restore", str(not_a_backup), database=throwaway_database)
    with pytest.raises(CommandError, match=rf"^No backup file at {tmp_path / 'missing.tar'}$"):
        run("restore", str(tmp_path / "missing.tar"), database=throwaway_database)

"""Back up and restore an installation: the database (pg_dump's custom format) and the uploaded files under
MEDIA_ROOT, in one tar archive with a manifest. Used by `manage.py backup` and `manage.py restore`, for the
embedded servers and for docker-compose alike (docs/operations.md, "Backup and restore").

The archive holds `manifest.json` (what is inside, the versions it came from, the dump's SHA-256),
`database.dump` and `media/<path>` for each uploaded file. A restore goes into an empty database only,
unless asked to drop what the target holds first (in the restore's transaction); it restores in one
transaction, so a failed restore leaves the database as it found it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import OperationalError

FORMAT = "bsc-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA_PREFIX = "media/"
# --force: run first in the restore's transaction (without the NOTICE of every table the drop cascades to).
DROP_PUBLIC = "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class Summary:
    path: Path
    database: str
    dump_bytes: int
    media_files: int
    media_bytes: int


# --- PostgreSQL client programs -------------------------------------------------------------------------


def _database() -> dict:
    return connections[DEFAULT_DB_ALIAS].settings_dict


def _server_version() -> tuple[int, str]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int, current_setting('server_version')")
        number, text = cursor.fetchone()
    return number // 10000, text


def _embedded_bin() -> Path | None:
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH)


def _client_version(program: Path) -> tuple[int, str]:
    output = subprocess.run([str(program), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", output)
    if not match:
        raise BackupError(f"{program} --version said {output.strip()!r}, which names no version")
    return int(match.group(1)), match.group(0)


def client_program(name: str, *, pg_bin: str | None = None) -> tuple[Path, str]:
    """The pg_dump or pg_restore to use, and its version: the one in `pg_bin` when given; else the one on PATH
    (with DATABASE_URL set) or the embedded server's own (pgserver ships PostgreSQL's client programs), the
    first whose major version is at least the server's (an older pg_dump refuses a newer server)."""
    if pg_bin:
        candidates = [Path(pg_bin) / name]
    else:
        on_path = shutil.which(name) if os.environ.get("DATABASE_URL") else None
        embedded = _embedded_bin()
        candidates = [Path(p) for p in (on_path, embedded / name if embedded else None) if p]
    server_major, server_text = _server_version()
    found = []
    for program in candidates:
        if not program.exists():
            continue
        major, text = _client_version(program)
        if major >= server_major:
            return program, text
        found.append(f"{program} ({text})")
    if not found:
        where = f"in {pg_bin}" if pg_bin else "on PATH or in the pgserver package"
        raise BackupError(f"No {name} found {where}; install PostgreSQL's client programs or pass --pg-bin")
    raise BackupError(
        f"The database server runs PostgreSQL {server_text}, and {name} must be that version or newer; found "
        f"only {', '.join(found)}. Install a newer client or pass --pg-bin with its bin folder."
    )


def _connection_args() -> tuple[list[str], dict]:
    db = _database()
    args = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return args, env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def _run_piped(producer: list[str], consumer: list[str], env: dict) -> None:
    """`producer | consumer`, failing when either fails."""
    with subprocess.Popen(producer, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as first:
        second = subprocess.run(consumer, env=env, stdin=first.stdout, capture_output=True, text=True)
        first.stdout.close()
        first_error = first.stderr.read().decode(errors="replace")
    # The consumer's error first: when it stops, the producer only reports a broken pipe.
    for command, code, error in ((consumer, second.returncode, second.stderr),
                                 (producer, first.returncode, first_error)):  # fmt: skip
        if code != 0:
            raise BackupError(f"{Path(command[0]).name} failed (exit {code}): {error.strip()[-2000:]}")


# --- Uploaded files -----------------------------------------------------------------------------------


def media_root() -> Path | None:
    """The folder of uploaded files, or None when the installation has none (MEDIA_ROOT unset)."""
    root = getattr(settings, "MEDIA_ROOT", None)
    return Path(root) if root else None


def _media_files(root: Path | None) -> list[Path]:
    if root is None or not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


# --- Backup -------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _migrations() -> dict[str, str]:
    """The latest applied migration of each app, so a restore can say which code the backup came from."""
    latest: dict[str, str] = {}
    recorder = MigrationRecorder(connections[DEFAULT_DB_ALIAS])
    for app, name in recorder.migration_qs.order_by("app", "name").values_list("app", "name"):
        latest[app] = name
    return latest


def backup_create(path: Path, *, pg_bin: str | None = None) -> Summary:
    """Write the archive at `path` (written under a temporary name and renamed when complete, so a failed
    backup leaves no file that looks whole)."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; name a new file")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist")
    pg_dump, dump_version = client_program("pg_dump", pg_bin=pg_bin)
    _, server_version = _server_version()
    args, env = _connection_args()
    root = media_root()
    media = _media_files(root)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as scratch:
        dump = Path(scratch) / DUMP
        _run([str(pg_dump), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", *args], env)
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {
                "name": _database()["NAME"],
                "file": DUMP,
                "bytes": dump.stat().st_size,
                "sha256": _sha256(dump),
                "server_version": server_version,
                "pg_dump_version": dump_version,
                "migrations": _migrations(),
            },
            "media": {"files": len(media), "bytes": sum(p.stat().st_size for p in media)},
        }
        partial = Path(scratch) / "archive.tar"
        with tarfile.open(partial, "w") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=DUMP)
            for file in media:
                archive.add(file, arcname=MEDIA_PREFIX + file.relative_to(root).as_posix())
        os.replace(partial, path)
    return Summary(path, manifest["database"]["name"], manifest["database"]["bytes"], len(media),
                   manifest["media"]["bytes"])  # fmt: skip


# --- Restore ------------------------------------------------------------------------------------------


def read_manifest(archive: tarfile.TarFile, path: Path) -> dict:
    try:
        member = archive.getmember(MANIFEST)
    except KeyError:
        raise BackupError(f"{path} is not a backup of this product: it has no {MANIFEST}") from None
    manifest = json.loads(archive.extractfile(member).read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a backup of this product (format {manifest.get('format')!r})")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format version {manifest.get('version')}; this code reads {FORMAT_VERSION}"
        )
    return manifest


def database_tables() -> list[str]:
    """The tables of the target database outside PostgreSQL's own schemas."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT schemaname || '.' || tablename FROM pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
            )
            return [row[0] for row in cursor.fetchall()]
    except OperationalError as error:
        name = _database()["NAME"]
        raise BackupError(f"Cannot reach the database {name!r} to restore into (create it first): {error}") from None


def backup_restore(path: Path, *, force: bool = False, pg_bin: str | None = None) -> Summary:
    """Restore the archive at `path` into the configured database, which must be empty (with `force`, its
    public schema is dropped first, in the same transaction), and its uploaded files into MEDIA_ROOT, which must be empty or missing
    (with `force`, files of the same name are overwritten)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}")
    name = _database()["NAME"]
    with tarfile.open(path, "r") as archive, tempfile.TemporaryDirectory(prefix="bsc-restore-") as scratch:
        manifest = read_manifest(archive, path)
        media = [m for m in archive.getmembers() if m.name.startswith(MEDIA_PREFIX) and m.isfile()]
        # Every check first: nothing is changed until the restore is known to be possible.
        tables = database_tables()
        if tables and not force:
            shown = ", ".join(tables[:3]) + (" …" if len(tables) > 3 else "")
            raise BackupError(
                f"The database {name!r} is not empty ({len(tables)} tables: {shown}). Restore into an empty "
                "database, or pass --force to drop everything in its public schema first."
            )
        root = media_root()
        if media and root is None:
            raise BackupError(f"The backup holds {len(media)} uploaded files, but MEDIA_ROOT is not set")
        if media and _media_files(root) and not force:
            raise BackupError(
                f"The folder of uploaded files {root} is not empty. Restore into an empty folder, or pass --force "
                "to overwrite files of the same name."
            )
        pg_restore, _ = client_program("pg_restore", pg_bin=pg_bin)
        archive.extract(DUMP, scratch, filter="data")
        dump = Path(scratch) / DUMP
        if _sha256(dump) != manifest["database"]["sha256"]:
            raise BackupError(f"{path} is damaged: its database dump does not match the checksum in its manifest")

        connections[DEFAULT_DB_ALIAS].close()
        args, env = _connection_args()
        options = ["--no-owner", "--no-privileges"]
        if tables:  # --force: drop the old schema and restore in one transaction, so a failure keeps the old data
            psql = pg_restore.with_name("psql")
            _run_piped(
                [str(pg_restore), *options, "--file=-", str(dump)],
                [str(psql), "--quiet", "--no-psqlrc", "--single-transaction", "--set=ON_ERROR_STOP=1",
                 f"--command={DROP_PUBLIC}", "--file=-", *args],
                env,
            )  # fmt: skip
        else:
            _run([str(pg_restore), "--single-transaction", "--exit-on-error", *options, *args, str(dump)], env)
        if media:
            root.mkdir(parents=True, exist_ok=True)
            for member in media:
                member.name = member.name.removeprefix(MEDIA_PREFIX)
                archive.extract(member, root, filter="data")
    return Summary(path, name, manifest["database"]["bytes"], len(media), sum(m.size for m in media))

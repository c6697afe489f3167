"""Finding 8: db.sqlite3 was created world-readable. The SQLite file (and its -wal/-shm) and uploads are
private to the user running Inflow."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_is_private(tmp_path):
    database = tmp_path / "db.sqlite3"
    old = tmp_path / "old.sqlite3"
    old.write_bytes(b"")
    old.chmod(0o644)  # made by an older version
    env = {
        **os.environ,
        "DEBUG": "1",
        "ENV_FILE": "/nonexistent/.env",
        "DATABASE_URL": f"sqlite:///{database}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{old}",
    }
    env.pop("DATABASE_TEST_NAME", None)
    previous = os.umask(0o022)  # a usual umask: files 0644 unless made private on purpose
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    finally:
        os.umask(previous)
    files = [p for p in tmp_path.iterdir() if p.name.startswith(("db.sqlite3", "old.sqlite3"))]
    assert database in files
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}


@pytest.mark.django_db
def test_uploads_are_private(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = os.umask(0o022)
    try:
        name = default_storage.save("brand-logos/logo.png", ContentFile(b"\x89PNG\r\n"))
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "media" / name) == 0o600
    assert _mode(tmp_path / "media" / "brand-logos") == 0o700

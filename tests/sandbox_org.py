"""Pytest plugin: a real sandbox org process per test session (and fresh ones on demand).

    sandbox_org            session-wide seeded org (200 contacts, seed 1); faults reset after each test
    make_sandbox_org       factory for a fresh org a test may change: make_sandbox_org(contacts=N, seed=S, https=False)

Each org is `manage.py runsandbox` (gunicorn) on a free 127.0.0.1 port with its own temporary SQLite file,
reached over real HTTP. Seeded databases are built once per (contacts, seed) and copied for each org.
When the test run itself uses PostgreSQL (DATABASE_URL=postgres://...), each org gets its own PostgreSQL
database instead, created from a seeded template database, and dropped at the end of the session.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fcntl
import itertools
import json
import os
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "inflow-local-dev"
CLIENT_SECRET = "inflow-local-dev-secret"
START_TIMEOUT = 60
# The callbacks the test orgs' connected app registers, matched exactly: Inflow's test client host and the
# sandbox's own OAuth tests. A test serving Inflow elsewhere (live_server) registers its own callback.
CALLBACKS = (
    "http://localhost:8000/integrations/salesforce/callback/",
    "http://localhost:8123/integrations/salesforce/callback/",
)


# What the app's SALESFORCE_LOCAL_ORIGINS holds in tests: sandbox orgs on this machine, on any port
# (each org starts on a free one); plain http or the self-signed https one (`https=True` is on localhost).
LOCAL_SANDBOX_ORIGINS = ["http://127.0.0.1", "https://localhost"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_server() -> str | None:
    """The PostgreSQL server of this test run, if it runs on PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _postgres_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _postgres_admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_postgres_url(server, "postgres"), autocommit=True) as connection:
        connection.execute(sql)


def _sf_datetime(text) -> str | None:
    """A datetime column value as Salesforce writes it: 2024-01-31T17:05:00.000+0000."""
    if text is None:
        return None
    value = text if isinstance(text, dt.datetime) else dt.datetime.fromisoformat(text.replace(" ", "T"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


class _CommandRunner:
    """One long-lived Python process (tests/sandbox_commands.py) running an org's `manage.py` commands for as
    long as the org runs: each goes through execute_from_command_line as with `manage.py`, without an
    interpreter start and a Django setup per command (about a second each on a loaded machine)."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log = open(log_path, "a")  # noqa: SIM115 - closed in close()
        read_end, write_end = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sandbox_commands", str(write_end)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            text=True,
        )
        os.close(write_end)
        self.replies = os.fdopen(read_end)

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, args: tuple[str, ...], *, timeout: float) -> subprocess.CompletedProcess:
        self.process.stdin.write(json.dumps(list(args)) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.replies], [], [], timeout)
        if not ready:
            self.close()
            raise subprocess.TimeoutExpired(["manage.py", *args], timeout)
        line = self.replies.readline()
        if not line:
            self.close()
            raise RuntimeError(f"the command runner exited during manage.py {' '.join(args)}")
        reply = json.loads(line)
        return subprocess.CompletedProcess(list(args), reply["code"], reply["stdout"], reply["stderr"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.replies.close()
        self.log.close()


_runners: dict[tuple, _CommandRunner] = {}


def _close_runners(env: dict[str, str] | None = None) -> None:
    """The command runners of the org with this environment (all of them without one)."""
    for key in list(_runners):
        if env is None or dict(key).get("SANDBOX_DATABASE_URL") == env.get("SANDBOX_DATABASE_URL"):
            _runners.pop(key).close()


class SandboxOrg:
    """One running sandbox org process and handles to drive and inspect it."""

    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET

    def __init__(
        self,
        workdir: Path,
        *,
        https: bool = False,
        env: dict[str, str] | None = None,
        database_url: str | None = None,
    ):
        self.workdir = workdir
        self.https = https
        self.db_path = workdir / "sandbox.sqlite3"
        self.database_url = database_url or f"sqlite:///{self.db_path}"
        self.state_dir = workdir / "state"
        self.port = None
        self.process = None
        self.env = {
            **os.environ,
            # The sandbox's own settings: only its app is loaded, whatever state the rest of the project is in.
            "DJANGO_SETTINGS_MODULE": "salesforce_sandbox.settings",
            "SANDBOX_DATABASE_URL": self.database_url,
            "DATABASE_URL": f"sqlite:///{workdir / 'app-unused.sqlite3'}",
            "SANDBOX_STATE_DIR": str(self.state_dir),
            "ENV_FILE": "/nonexistent/.env",
            "PYTHONUNBUFFERED": "1",
            "SANDBOX_CALLBACK_URLS": ",".join(CALLBACKS),
            **(env or {}),
        }
        for key in ("SANDBOX_DATABASE_TEST_NAME",):
            self.env.pop(key, None)

    # -- process -----------------------------------------------------------------------------------------
    org_name: str | None = None  # another org of the same process (other_org)

    @property
    def _org_param(self) -> dict:
        return {"org": self.org_name} if self.org_name else {}

    def manage(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """`manage.py ARGS` on this org, run by the org's command runner (see _CommandRunner)."""
        if self.org_name and args and args[0].startswith("sandbox_"):
            args = (*args, "--org", self.org_name)
        key = tuple(sorted(self.env.items()))
        runner = _runners.get(key)
        if runner is None or not runner.alive():
            runner = _runners[key] = _CommandRunner(self.env, self.workdir / "commands.log")
        result = runner.run(args, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self, *, port: int | None = None) -> SandboxOrg:
        self.port = port or _free_port()
        command = [
            sys.executable,
            str(ROOT / "manage.py"),
            "runsandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "2",
            "--threads",
            "4",
            "--no-migrate",
        ]
        if self.https:
            command.append("--https")
        self.log = open(self.workdir / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        try:
            return self._wait_until_serving()
        except BaseException:
            self.stop()  # never leave an orphaned server behind
            raise

    def _wait_until_serving(self) -> SandboxOrg:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox org exited:\n{(self.workdir / 'server.log').read_text()}")
            if self.https and not self.cert_path.exists():  # runsandbox writes it before starting gunicorn
                time.sleep(0.2)
                continue
            try:
                if self.session().get(f"{self.url}/services/data/", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"sandbox org did not start:\n{(self.workdir / 'server.log').read_text()}")

    def restart(self, *, kill: bool = False) -> SandboxOrg:
        """Stop the org's process (SIGKILL with `kill`) and start it again on the same port and data."""
        if kill and self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            # Its workers notice their master is gone and exit; until then they still hold the port.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", self.port)) != 0:
                        break
                time.sleep(0.2)
        self.stop()
        return self.start(port=self.port)

    def stop(self) -> None:
        _close_runners(self.env)
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    # -- addresses -----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = "localhost" if self.https else "127.0.0.1"
        return f"{'https' if self.https else 'http'}://{host}:{self.port}"

    @property
    def login_url(self) -> str:
        return self.url

    @property
    def cert_path(self) -> Path:
        return self.state_dir / "sandbox-cert.pem"

    def session(self) -> requests.Session:
        """A requests session that trusts this org's certificate (and ignores REQUESTS_CA_BUNDLE)."""
        session = requests.Session()
        session.trust_env = False
        if self.https:
            session.verify = str(self.cert_path)
        return session

    # -- driving -------------------------------------------------------------------------------------------
    def token(self, app: str | None = None) -> dict:
        args = ["sandbox_token", "--json", "--instance-url", self.url]
        if app:
            args += ["--app", app]
        return json.loads(self.manage(*args).stdout.strip().splitlines()[-1])

    def register_callback(self, url: str) -> None:
        """Register one more callback URL (exactly) with the local connected app."""
        self.manage("sandbox_app", "--add-callback", url)

    def faults(self, **kw) -> dict:
        response = self.session().post(
            f"{self.url}/_sandbox/faults", json=kw, params=self._org_param, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def reset_faults(self) -> dict:
        response = self.session().delete(f"{self.url}/_sandbox/faults", params=self._org_param, timeout=10)
        response.raise_for_status()
        return response.json()

    def churn(self, **kw) -> str:
        args = ["sandbox_churn"]
        for key, value in kw.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                args.append(flag)
            elif value not in (None, False):
                args += [flag, str(value)]
        return self.manage(*args).stdout

    def seed(self, *, contacts: int = 200, seed: int = 1) -> str:
        return self.manage("sandbox_seed", "--reset", "--contacts", str(contacts), "--seed", str(seed)).stdout

    def status(self) -> dict:
        response = self.session().get(f"{self.url}/_sandbox/status", params=self._org_param, timeout=10)
        response.raise_for_status()
        return response.json()

    def api_usage(self) -> tuple[int, int]:
        usage = self.status()["api_usage"]
        return usage["used"], usage["max"]

    def request_log(self) -> dict[str, int]:
        return self.status()["request_log"]

    def other_org(self, name: str) -> SandboxOrg:
        """Handles on another org of this same process (`sandbox_seed --org NAME`): the same server, that
        org's database for direct reads, its commands run with `--org NAME`."""
        view = copy.copy(self)
        view.org_name = name
        if self.database_url.startswith("sqlite"):
            view.db_path = self.db_path.with_name(f"{self.db_path.stem}.org-{name}{self.db_path.suffix}")
            view.database_url = f"sqlite:///{view.db_path}"
        else:
            view.database_url = f"{self.database_url}_org_{name}"
        return view

    # -- the org's clock -----------------------------------------------------------------------------------
    def pass_time(self, table: str, *columns: str, seconds: float) -> None:
        """As if `seconds` had passed for the rows of `table`: their timestamp `columns` move back by that
        much. Tests of the org's time limits (token lifetimes, idle locators) go forward this way instead
        of sleeping through them; `table` is a sandbox model's table, e.g. "salesforce_sandbox_grant"."""
        if self.database_url.startswith("sqlite"):
            # Django keeps SQLite datetimes as UTC text; strftime keeps that form (to the millisecond).
            moves = ", ".join(
                f"{column} = strftime('%Y-%m-%d %H:%M:%f', {column}, '-{float(seconds)} seconds')"
                for column in columns
            )
            with sqlite3.connect(self.db_path, timeout=30) as connection:
                connection.execute(f"UPDATE {table} SET {moves}")  # noqa: S608 - test-chosen names
            connection.close()
            return
        import psycopg

        moves = ", ".join(f"{column} = {column} - make_interval(secs => %(seconds)s)" for column in columns)
        with psycopg.connect(self.database_url) as connection:
            connection.execute(f"UPDATE {table} SET {moves}", {"seconds": float(seconds)})  # noqa: S608

    # -- reading the database directly ---------------------------------------------------------------------
    def _rows(self, sql: str, params: tuple = ()) -> list[dict]:
        if self.database_url.startswith("sqlite"):
            connection = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
            connection.row_factory = sqlite3.Row
            with connection:
                rows = [dict(row) for row in connection.execute(sql.replace("%s", "?"), params).fetchall()]
            connection.close()
            return rows
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.database_url, row_factory=dict_row) as connection:
            return list(connection.execute(sql, params).fetchall())

    def counts(self) -> dict[str, int]:
        rows = self._rows(
            "SELECT sobject, COUNT(*) AS n FROM salesforce_sandbox_record WHERE is_deleted = %s AND purged = %s "
            "GROUP BY sobject ORDER BY sobject",
            (False, False),
        )
        return {row["sobject"]: row["n"] for row in rows}

    def records(self, sobject: str, *, include_deleted: bool = False) -> list[dict]:
        """Every record of `sobject` as stored: its JSON fields plus the system fields, in wire form."""
        sql = (
            "SELECT sf_id, is_deleted, created_date, last_modified_date, system_modstamp, data "
            "FROM salesforce_sandbox_record WHERE sobject = %s AND purged = %s"
        )
        params: tuple = (sobject, False)
        if not include_deleted:
            sql += " AND is_deleted = %s"
            params += (False,)
        out = []
        for row in self._rows(sql + " ORDER BY sf_id", params):
            record = json.loads(row["data"])
            record.update(
                Id=row["sf_id"],
                IsDeleted=bool(row["is_deleted"]),
                CreatedDate=_sf_datetime(row["created_date"]),
                LastModifiedDate=_sf_datetime(row["last_modified_date"]),
                SystemModstamp=_sf_datetime(row["system_modstamp"]),
            )
            out.append(record)
        return out


def _run_id() -> str:
    """This test run's id, the same in every xdist worker (the controller sets it before they start)."""
    return os.environ.setdefault("INFLOW_TEST_RUN_ID", uuid.uuid4().hex[:8])


_database_numbers = itertools.count()


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@contextlib.contextmanager
def _file_lock(path: Path):
    """Held by one process of this run at a time (xdist workers share the seeded templates)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _shared_base(tmp_path_factory) -> Path:
    """A folder every xdist worker of this run sees (a worker's basetemp is a subfolder of the run's)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


class _Templates:
    """Migrated and seeded databases, built once per (contacts, seed) for the whole run (the first worker
    to need one builds it under a lock, the others wait for it) and copied for each org."""

    def __init__(self, shared: Path):
        self.shared = shared / "sandbox-templates"
        self.shared.mkdir(parents=True, exist_ok=True)
        self.postgres = _postgres_server()
        self.databases: list[str] = []
        self.run_prefix = f"sbx_{_run_id()}"
        # The orgs' databases are this worker's; the templates are the run's (dropped by the controller).
        self.prefix = f"{self.run_prefix}_{_worker_id()}"

    def _new_database(self, template: str) -> str:
        name = f"{self.prefix}_{next(_database_numbers)}"
        _postgres_admin(self.postgres, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.databases.append(name)
        return name

    def _build(self, contacts: int, seed: int, workdir: Path) -> str:
        if self.postgres:
            name = f"{self.run_prefix}_template_{contacts}_{seed}"
            _postgres_admin(self.postgres, f'DROP DATABASE IF EXISTS "{name}"')
            _postgres_admin(self.postgres, f'CREATE DATABASE "{name}"')
            builder = SandboxOrg(workdir, database_url=_postgres_url(self.postgres, name))
        else:
            builder = SandboxOrg(workdir)
        builder.manage("migrate", "--database", "sandbox", "--no-input", "-v", "0")
        builder.manage("sandbox_seed", "--contacts", str(contacts), "--seed", str(seed))
        _close_runners(builder.env)
        if self.postgres:
            return name
        with sqlite3.connect(builder.db_path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        return str(builder.db_path)

    @contextlib.contextmanager
    def get(self, contacts: int, seed: int):
        """A seeded template (a SQLite file path, or a PostgreSQL database name), locked while in use:
        PostgreSQL copies a template only while no one else is connected to it."""
        workdir = self.shared / f"template-{contacts}-{seed}"
        workdir.mkdir(parents=True, exist_ok=True)
        ready = workdir / "ready"
        with _file_lock(workdir / "lock"):
            if not ready.exists():
                ready.write_text(self._build(contacts, seed, workdir))
            yield ready.read_text()

    def new_org(self, workdir: Path, *, contacts: int, seed: int, https: bool, env) -> SandboxOrg:
        with self.get(contacts, seed) as template:
            if self.postgres:
                name = self._new_database(template)
                return SandboxOrg(
                    workdir, https=https, env=env, database_url=_postgres_url(self.postgres, name)
                )
            org = SandboxOrg(workdir, https=https, env=env)
            shutil.copyfile(template, org.db_path)
            return org

    def drop_all(self) -> None:
        for name in self.databases:
            _drop_databases(self.postgres, f"{name}_org_")  # further orgs a test created in this one
            _postgres_admin(self.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop_databases(server: str, prefix: str) -> None:
    """Every database whose name starts with `prefix`."""
    import psycopg

    with psycopg.connect(_postgres_url(server, "postgres"), autocommit=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix.replace("_", r"\_") + "%",)
            )
        ]
    for name in sorted(names, key=len, reverse=True):
        _postgres_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_configure(config):
    _run_id()  # before xdist starts its workers, so they inherit it


def pytest_sessionfinish(session, exitstatus):
    # The controller (or a run without xdist) drops the run's templates once every worker is done.
    server = _postgres_server()
    if server and not hasattr(session.config, "workerinput"):
        _drop_databases(server, f"sbx_{_run_id()}_")


@pytest.fixture(scope="session")
def _sandbox_templates(tmp_path_factory):
    templates = _Templates(_shared_base(tmp_path_factory))
    yield templates
    _close_runners()
    if templates.postgres:
        templates.drop_all()


def _launch(
    tmp_path_factory,
    templates: _Templates,
    *,
    contacts: int,
    seed: int,
    https: bool,
    env: dict[str, str] | None = None,
) -> SandboxOrg:
    workdir = tmp_path_factory.mktemp("sandbox-org")
    org = templates.new_org(workdir, contacts=contacts, seed=seed, https=https, env=env)
    return org.start()


@pytest.fixture(scope="session")
def _sandbox_org_session(tmp_path_factory, _sandbox_templates):
    org = _launch(tmp_path_factory, _sandbox_templates, contacts=200, seed=1, https=False)
    yield org
    org.stop()


@pytest.fixture
def sandbox_org(_sandbox_org_session):
    """The shared small org (200 contacts, seed 1). Do not change its data: use make_sandbox_org for that."""
    yield _sandbox_org_session
    _sandbox_org_session.reset_faults()
    _sandbox_org_session.faults(api_limit=15000, api_usage=0)


@pytest.fixture
def make_sandbox_org(tmp_path_factory, _sandbox_templates):
    started: list[SandboxOrg] = []

    def make(*, contacts: int = 200, seed: int = 1, https: bool = False, env: dict[str, str] | None = None):
        """A fresh org; `env` sets the process's environment, e.g. {"SANDBOX_LOCATOR_IDLE_SECONDS": "1"}."""
        org = _launch(
            tmp_path_factory, _sandbox_templates, contacts=contacts, seed=seed, https=https, env=env
        )
        started.append(org)
        return org

    yield make
    for org in started:
        org.stop()

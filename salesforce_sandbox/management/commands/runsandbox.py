"""`manage.py runsandbox [--host H] [--port P] [--https]`: serve the sandbox org with gunicorn (threads)."""

import os
import secrets
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from salesforce_sandbox.certs import ensure_certificate
from salesforce_sandbox.models import OrgState
from salesforce_sandbox.routers import db
from salesforce_sandbox.services import org, orgs
from salesforce_sandbox.services.seed import connected_app_ensure


def _state_dir() -> Path:
    return Path(os.environ.get("SANDBOX_STATE_DIR") or Path(settings.BASE_DIR) / "var" / "sandbox")


def _stable_secret(state_dir: Path) -> str:
    """Every gunicorn worker must sign cookies with the same key, also when DEBUG invents one per process."""
    path = state_dir / "secret_key"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Run the local Salesforce sandbox org (gunicorn, threaded) on its own port."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.SANDBOX_PORT)
        parser.add_argument("--https", action="store_true", help="Serve TLS with a self-signed certificate.")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--access-log", action="store_true", help="Log every request to stdout.")
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrating the sandbox database.")

    def handle(self, *args, host, port, https, workers, threads, access_log, no_migrate, **options):
        if not no_migrate:
            call_command("migrate", database=db(), verbosity=0, interactive=False)
            orgs.migrate_all()
        connected_app_ensure()
        state_dir = _state_dir()
        scheme = "https" if https else "http"
        shown_host = "localhost" if https and host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
        origin = f"{scheme}://{shown_host}:{port}"
        org.state()
        OrgState.objects.using(db()).filter(pk=1).update(served_origin=origin)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "salesforce_sandbox.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "300",
            "--graceful-timeout",
            "5",
            "--keep-alive",
            "30",
            # Several sandboxes may run at once (tests): no shared control socket in the home directory.
            "--no-control-socket",
            # Salesforce takes URIs up to 16,384 bytes (checked in UriLengthMiddleware) and long headers.
            "--limit-request-line",
            "0",
            "--limit-request-field_size",
            "32768",
        ]
        if access_log:
            command += ["--access-logfile", "-"]
        if https:
            cert, key = ensure_certificate(state_dir)
            command += ["--certfile", str(cert), "--keyfile", str(key)]
            self.stdout.write(f"Sandbox org certificate: {cert}")
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = "salesforce_sandbox.settings"
        env.setdefault("SANDBOX_STATE_DIR", str(state_dir))
        if not env.get("SECRET_KEY"):
            env["SECRET_KEY"] = _stable_secret(state_dir)
        self.stdout.write(f"Sandbox org listening on {origin} (log in as demo@inflow.local / inflow-demo)")
        self.stdout.flush()
        os.execvpe(sys.executable, command, env)  # noqa: S606 - replace this process with gunicorn

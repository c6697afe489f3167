"""`manage.py sandbox_app [--client-id ID] ...`: create or configure a connected app's OAuth policies."""

from django.core.management.base import CommandError

from salesforce_sandbox.management.org_command import OrgCommand
from salesforce_sandbox.models import ConnectedApp
from salesforce_sandbox.routers import db
from salesforce_sandbox.services.seed import DEFAULT_APP, connected_app_ensure


class Command(OrgCommand):
    help = "Create a connected app or change its refresh-token policy, rotation, grant limit and session timeout."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", default=DEFAULT_APP["client_id"])
        parser.add_argument(
            "--create", action="store_true", help="Create the app (needs --secret and --callback)."
        )
        parser.add_argument("--name", help="Display name.")
        parser.add_argument("--secret", help="Client secret.")
        parser.add_argument(
            "--callback", action="append", help="Registered callback URL, matched exactly (repeatable)."
        )
        parser.add_argument(
            "--add-callback", action="append", help="Register one more callback URL (repeatable)."
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="A public client: no secret, PKCE required (with --create).",
        )
        parser.add_argument("--refresh-policy", choices=[c for c, _ in ConnectedApp.RefreshPolicy.choices])
        parser.add_argument("--refresh-ttl", type=int, help="Seconds for expire_after / expire_if_unused.")
        parser.add_argument(
            "--rotate", action="store_true", help="Issue a new refresh token on every refresh."
        )
        parser.add_argument("--no-rotate", action="store_true", help="Keep the refresh token on refresh.")
        parser.add_argument(
            "--max-grants", type=int, help="Live grants per user before the oldest is revoked."
        )
        parser.add_argument("--session-timeout", type=int, help="Access token lifetime in seconds.")

    def handle(self, *args, **o):
        if o["create"]:
            if not ((o["secret"] or o["public"]) and o["callback"]):
                raise CommandError("--create needs --secret (or --public) and at least one --callback")
            app, created = ConnectedApp.objects.using(db()).get_or_create(
                client_id=o["client_id"],
                defaults={
                    "name": o["name"] or o["client_id"],
                    "client_secret": o["secret"] or "",
                    "require_secret": not o["public"],
                    "callback_urls": "\n".join(o["callback"]),
                },
            )
            if not created:
                raise CommandError(f"A connected app with client id {o['client_id']!r} already exists")
        else:
            if o["client_id"] == DEFAULT_APP["client_id"]:
                connected_app_ensure()
            app = ConnectedApp.objects.using(db()).filter(client_id=o["client_id"]).first()
            if app is None:
                raise CommandError(f"No connected app with client id {o['client_id']!r}")
        if o["refresh_policy"]:
            app.refresh_policy = o["refresh_policy"]
        if o["refresh_ttl"] is not None:
            app.refresh_ttl_seconds = o["refresh_ttl"]
        if o["rotate"] or o["no_rotate"]:
            app.rotate_refresh_tokens = bool(o["rotate"])
        if o["max_grants"] is not None:
            app.max_grants_per_user = o["max_grants"]
        if o["session_timeout"] is not None:
            app.session_timeout_seconds = o["session_timeout"]
        if o["name"] and not o["create"]:
            app.name = o["name"]
        if o["callback"] and not o["create"]:
            app.callback_urls = "\n".join(o["callback"])
        for url in o["add_callback"] or []:
            if url not in app.callback_urls.split():
                app.callback_urls = "\n".join([*app.callback_urls.split(), url])
        if (
            app.refresh_policy
            in (ConnectedApp.RefreshPolicy.EXPIRE_AFTER, ConnectedApp.RefreshPolicy.EXPIRE_IF_UNUSED)
            and not app.refresh_ttl_seconds
        ):
            raise CommandError("This refresh-token policy needs --refresh-ttl")
        app.full_clean()
        app.save(using=db())
        self.stdout.write(
            f"{app.client_id}: {app.get_refresh_policy_display()}"
            f"{f' {app.refresh_ttl_seconds}s' if app.refresh_ttl_seconds else ''}, "
            f"rotation {'on' if app.rotate_refresh_tokens else 'off'}, "
            f"at most {app.max_grants_per_user} grants per user, "
            f"session {app.session_timeout_seconds}s"
        )

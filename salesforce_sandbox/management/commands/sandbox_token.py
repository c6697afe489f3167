"""`manage.py sandbox_token [--app CLIENT_ID] [--instance-url URL] [--json]`: tokens without the browser."""

import orjson
from django.conf import settings
from django.core.management.base import CommandError

from salesforce_sandbox.management.org_command import OrgCommand
from salesforce_sandbox.models import OrgUser
from salesforce_sandbox.routers import db
from salesforce_sandbox.services import oauth, org
from salesforce_sandbox.services.seed import DEFAULT_APP, connected_app_ensure, demo_user


class Command(OrgCommand):
    help = "Grant the demo user a fresh access and refresh token for a connected app and print them."

    def add_arguments(self, parser):
        parser.add_argument("--app", default=DEFAULT_APP["client_id"], help="Client id of the connected app.")
        parser.add_argument(
            "--instance-url", default="", help="instance_url to print (default: the org's origin)."
        )
        parser.add_argument("--scope", default="api refresh_token id", help="Scopes to grant.")
        parser.add_argument("--json", action="store_true", help="Print exactly the token endpoint's JSON.")

    def handle(self, *args, app: str, instance_url: str, scope: str, json: bool, **options):
        if app == DEFAULT_APP["client_id"]:
            connected_app_ensure()
        connected = oauth.app_by_client_id(app)
        if connected is None:
            raise CommandError(f"No connected app with client id {app!r}.")
        user = OrgUser.objects.using(db()).filter(username=demo_user()["username"]).first()
        if user is None:
            raise CommandError("The demo user does not exist yet: run `manage.py sandbox_seed` first.")
        origin = (instance_url or org.state().served_origin or settings.SANDBOX_ORIGIN).rstrip("/")
        issued = oauth.tokens_grant(app=connected, user=user, scopes=oauth.normalise_scopes(scope, connected))
        body = oauth.token_json(issued, origin=origin)
        if json:
            self.stdout.write(orjson.dumps(body).decode())
            return
        self.stdout.write(f"instance_url:  {body['instance_url']}")
        self.stdout.write(f"access_token:  {body['access_token']}")
        if "refresh_token" in body:
            self.stdout.write(f"refresh_token: {body['refresh_token']}")
        self.stdout.write(f"id:            {body['id']}")

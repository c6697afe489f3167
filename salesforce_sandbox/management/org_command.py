"""`--org NAME` for every sandbox command: the command runs on that org (the default org without it)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from salesforce_sandbox.routers import DEFAULT_ORG_NAME
from salesforce_sandbox.services import orgs


class OrgCommand(BaseCommand):
    # sandbox_seed creates the org it is given; the other commands refuse an org that does not exist.
    creates_org = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--org",
            default=DEFAULT_ORG_NAME,
            help="Which org of this sandbox (default: the default org)."
            + (" Created if it does not exist." if self.creates_org else ""),
        )
        return parser

    def execute(self, *args, **options):
        name = options.pop("org", None) or DEFAULT_ORG_NAME
        try:
            org = orgs.org_create(name=name) if self.creates_org else orgs.resolve(name)
        except (ValueError, orgs.OrgNotFound) as exc:
            raise CommandError(str(exc)) from exc
        with orgs.activated(org):
            return super().execute(*args, **options)

"""`manage.py person_permission --workspace SLUG (--email ADDRESS | --person ID) [--sms] (--subscribe | --unsubscribe)`.

Sets a person's email (or SMS) permission as a change made in Inflow: a history row, the workspace's sticky
unsubscribe, and the sources' write-back (Salesforce records whose rule writes back get it on the next run).
"""

from django.core.management.base import BaseCommand, CommandError

from cdp.models import Person, Workspace
from cdp.services import person_permission_set


class Command(BaseCommand):
    help = "Subscribe or unsubscribe a person, as a change made in Inflow."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email", help="The person's email address.")
        who.add_argument("--person", type=int, help="The person's id.")
        parser.add_argument("--sms", action="store_true", help="The SMS permission instead of email.")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--subscribe", action="store_true")
        what.add_argument("--unsubscribe", action="store_true")

    def handle(self, *args, workspace, email, person, sms, subscribe, unsubscribe, **options):
        found_workspace = Workspace.objects.filter(slug=workspace).first()
        if found_workspace is None:
            raise CommandError(f"No workspace {workspace!r}.")
        people = Person.objects.filter(workspace=found_workspace, archived_at__isnull=True)
        people = (
            people.filter(pk=person) if person is not None else people.filter(email_key=email.strip().lower())
        )
        matches = list(people[:2])
        if len(matches) != 1:
            raise CommandError(
                f"{'No' if not matches else 'More than one'} live person matches; give --person ID."
            )
        field_id = "bol::sp" if sms else "bol::p"
        person_permission_set(
            workspace=found_workspace, person_id=matches[0].pk, field_id=field_id, value=subscribe, actor=None
        )
        channel = "SMS" if sms else "email"
        self.stdout.write(
            f"Person {matches[0].pk} {'subscribed to' if subscribe else 'unsubscribed from'} {channel}."
        )

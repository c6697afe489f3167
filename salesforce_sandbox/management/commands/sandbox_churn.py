"""`manage.py sandbox_churn [--updates N] [--creates N] ...`: make the org change like a busy org."""

from django.core.management.base import CommandError

from salesforce_sandbox.api import current_schema
from salesforce_sandbox.management.org_command import OrgCommand
from salesforce_sandbox.services.churn import ChurnError, churn, validation_rule_add


class Command(OrgCommand):
    help = "Change the sandbox org: edits, creates, deletes, undeletes, purges, conversions, schema changes."

    def add_arguments(self, parser):
        for name, help_text in (
            ("updates", "records to edit (spread over --objects)"),
            ("creates", "contacts to create"),
            ("deletes", "records to move to the recycle bin (their dependants go with them)"),
            ("undeletes", "records to restore from the recycle bin (with what their delete took)"),
            ("purge", "records to empty from the recycle bin (hard delete, with what their delete took)"),
            ("convert-leads", "open leads to convert (into the contact with their email, or a new one)"),
            ("advance-opportunities", "open opportunities to move to a later stage"),
            ("complete-tasks", "open tasks to complete"),
        ):
            parser.add_argument(f"--{name}", type=int, default=0, help=help_text)
        parser.add_argument(
            "--schema-change",
            action="store_true",
            help="Add the churn custom field to Contact, or remove it if present.",
        )
        parser.add_argument(
            "--validation-rule",
            metavar="OBJECT.FIELD=VALUE",
            help="Add a validation rule refusing any save that leaves FIELD equal to VALUE (JSON, e.g. false).",
        )
        parser.add_argument(
            "--rule-message",
            default="This record cannot be saved with that value.",
            help="The rule's message.",
        )
        parser.add_argument(
            "--objects", default="Contact,Lead", help="Objects to edit and delete (comma list)."
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="Random seed: orgs alike churned alike with one seed make the same changes. "
            "Without it, changes are random.",
        )

    def handle(self, *args, **options):
        if options["validation_rule"]:
            try:
                self.stdout.write(validation_rule_add(options["validation_rule"], options["rule_message"]))
            except ChurnError as exc:
                raise CommandError(str(exc))
            return
        try:
            report = self._churn(options)
        except ChurnError as exc:
            raise CommandError(str(exc))
        if not report.changed:
            self.stdout.write("Nothing changed.")
        for what, count in report.changed.items():
            self.stdout.write(f"{what}: {count}")

    def _churn(self, options):
        return churn(
            schema=current_schema(),
            seed=options["seed"],
            updates=options["updates"],
            creates=options["creates"],
            deletes=options["deletes"],
            undeletes=options["undeletes"],
            purge=options["purge"],
            convert_leads=options["convert_leads"],
            advance_opportunities=options["advance_opportunities"],
            complete_tasks=options["complete_tasks"],
            schema_change=options["schema_change"],
            objects=tuple(name.strip() for name in options["objects"].split(",") if name.strip()),
        )

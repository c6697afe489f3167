"""`manage.py sandbox_seed [--contacts N] [--seed S] [--reset] [--if-empty]`: build a deterministic org."""

from django.core.management.base import CommandError

from salesforce_sandbox.management.org_command import OrgCommand
from salesforce_sandbox.services.person_accounts import person_accounts_create
from salesforce_sandbox.services.seed import connected_app_ensure, org_is_empty, org_seed


class Command(OrgCommand):
    creates_org = True

    help = "Seed the sandbox org with a deterministic, realistic and messy data set."

    def add_arguments(self, parser):
        parser.add_argument(
            "--contacts", type=int, default=2000, help="Contacts to create (others in proportion)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: the same seed gives the same org."
        )
        parser.add_argument("--reset", action="store_true", help="Delete every record first.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the org already has records."
        )
        parser.add_argument(
            "--person-accounts",
            type=int,
            metavar="N",
            default=None,
            help="Turn Person Accounts on (IsPersonAccount and the Person… fields on Account) and add N of "
            "them; with --if-empty on a seeded org, only this.",
        )

    def handle(self, *args, contacts: int, seed: int, reset: bool, if_empty: bool, **options):
        person_accounts = options.get("person_accounts")
        if if_empty and not reset and not org_is_empty():
            connected_app_ensure()
            self.stdout.write("The sandbox org already has records: not seeding.")
            self._person_accounts(person_accounts, seed)
            return
        try:
            report = org_seed(
                contacts=contacts,
                seed=seed,
                reset=reset,
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except ValueError as exc:
            raise CommandError(str(exc))
        total = sum(report.counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {total} records ({contacts} contacts, seed {seed}) in {report.seconds:.1f}s"
            )
        )
        for name, count in sorted(report.counts.items()):
            self.stdout.write(f"  {name}: {count}")
        self._person_accounts(person_accounts, seed)

    def _person_accounts(self, count: int | None, seed: int) -> None:
        if count is None:
            return
        if count < 0:
            raise CommandError("--person-accounts takes 0 or more")
        ids = person_accounts_create(count=count, seed=seed)
        self.stdout.write(self.style.SUCCESS(f"Person Accounts on; added {len(ids)} person accounts"))

"""`manage.py sandbox_faults ...`: turn faults on and off; every sandbox process sees them at once."""

import orjson
from django.core.management.base import CommandError

from salesforce_sandbox.management.org_command import OrgCommand
from salesforce_sandbox.services import org


class Command(OrgCommand):
    help = "Inject faults into the sandbox org (or --reset them, or --show them)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Clear every fault first.")
        parser.add_argument("--show", action="store_true", help="Print the active faults as JSON.")
        parser.add_argument(
            "--expire-access-tokens", action="store_true", help="Every current access token expires."
        )
        parser.add_argument(
            "--revoke-refresh-tokens", action="store_true", help="Every refresh token is revoked."
        )
        parser.add_argument(
            "--expire-locators", action="store_true", help="Every open query locator expires."
        )
        parser.add_argument("--api-limit", type=int, help="Daily API request limit.")
        parser.add_argument("--api-usage", type=int, help="API requests already used today.")
        parser.add_argument("--fail-next", type=int, help="Fail the next N API requests.")
        parser.add_argument(
            "--fail-status", choices=["500", "503", "drop"], help="How they fail (default 503)."
        )
        parser.add_argument(
            "--malformed-next", type=int, help="Cut the body of the next N API responses short."
        )
        parser.add_argument("--latency-ms", type=int, help="Added latency per API request.")
        parser.add_argument(
            "--query-timeout", nargs="*", metavar="OBJECT", help="Objects whose queries time out."
        )
        parser.add_argument(
            "--wrong-type", nargs="*", metavar="OBJECT.FIELD", help="Fields served with wrong types."
        )
        parser.add_argument("--short-page-size", type=int, help="Cap REST query pages at N records (0: off).")
        parser.add_argument("--bulk-job-delay-ms", type=int, help="Time before a Bulk job completes.")
        parser.add_argument("--gap-next", type=int, help="The next N change events are GAP_* events.")
        parser.add_argument(
            "--overflow-next", type=int, help="The next N write transactions publish GAP_OVERFLOW events."
        )
        parser.add_argument(
            "--expire-events", action="store_true", help="Forget every stored change event (retention)."
        )
        parser.add_argument(
            "--change-event-objects",
            nargs="*",
            metavar="OBJECT",
            help='Objects that publish change events ("*" for all).',
        )
        parser.add_argument(
            "--query-timeout-seconds", type=float, help="Every query answers QUERY_TIMEOUT for N seconds."
        )
        parser.add_argument(
            "--unreachable-seconds", type=float, help="Drop every API request's connection for N seconds."
        )

    def handle(self, *args, **options):
        if options["reset"]:
            org.faults_reset()
        fail_status = options["fail_status"]
        changes = {
            "expire_access_tokens": options["expire_access_tokens"] or None,
            "revoke_refresh_tokens": options["revoke_refresh_tokens"] or None,
            "expire_locators": options["expire_locators"] or None,
            "api_limit": options["api_limit"],
            "api_usage": options["api_usage"],
            "fail_next": options["fail_next"],
            "fail_status": None
            if fail_status is None
            else (0 if fail_status == "drop" else int(fail_status)),
            "malformed_next": options["malformed_next"],
            "latency_ms": options["latency_ms"],
            "query_timeout": options["query_timeout"],
            "wrong_type": options["wrong_type"],
            "short_page_size": options["short_page_size"],
            "bulk_job_delay_ms": options["bulk_job_delay_ms"],
            "gap_next": options["gap_next"],
            "overflow_next": options["overflow_next"],
            "expire_events": options["expire_events"] or None,
            "change_event_objects": options["change_event_objects"],
            "query_timeout_seconds": options["query_timeout_seconds"],
            "unreachable_seconds": options["unreachable_seconds"],
        }
        try:
            current = org.faults_apply(**changes)
        except org.FaultError as exc:
            raise CommandError(str(exc))
        self.stdout.write(orjson.dumps(org.faults_describe(current), option=orjson.OPT_INDENT_2).decode())

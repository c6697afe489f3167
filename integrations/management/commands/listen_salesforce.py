"""`manage.py listen_salesforce [--connection ID ...]`: apply Salesforce's change events as they happen.

Runs until SIGTERM/SIGINT (the Procfile's `listener` process). One stream per connection across the cluster
(a lease in the database); see integrations/salesforce/listener.py.
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from integrations.salesforce import listener


class Command(BaseCommand):
    help = "Listen to Salesforce Change Data Capture events for every connection with Live updates on."

    def add_arguments(self, parser):
        parser.add_argument("--connection", type=int, action="append", default=[], help="Only these ids.")

    def handle(self, *args, connection, **options):
        stop = threading.Event()

        def ask_to_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, ask_to_stop)
        signal.signal(signal.SIGINT, ask_to_stop)
        self.stdout.write(f"Listening as {listener.owner_name()} (Ctrl-C to stop)")
        self.stdout.flush()
        listener.listen(stop=stop, connection_ids=tuple(connection))

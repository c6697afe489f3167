from __future__ import annotations

from django.core.management.base import CommandError

from integrations.models import Connection


def get_connection(connection_id: int) -> Connection:
    # Operator commands act across workspaces by id; there is no request workspace to scope to.
    connection = Connection.objects.select_related("workspace").filter(pk=connection_id).first()
    if connection is None:
        raise CommandError(f"No Salesforce connection with id {connection_id}.")
    return connection

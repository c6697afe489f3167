"""Data-source models, one module per area. Import models from here: `from integrations.models import X`."""

from integrations.models.alerts import ConnectionAlert  # noqa: F401
from integrations.models.connection import Connection  # noqa: F401
from integrations.models.streaming import ChangeStream  # noqa: F401
from integrations.models.sync import (  # noqa: F401
    FieldSelection,
    SalesforceUserName,
    SourceRecord,
    SyncedObject,
    SyncError,
    SyncRun,
)
from integrations.models.writeback import PermissionWriteback  # noqa: F401, E402

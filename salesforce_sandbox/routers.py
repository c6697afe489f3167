"""The sandbox org keeps its rows in its own database: it is another system, not part of Inflow."""

SANDBOX_APP = "salesforce_sandbox"
SANDBOX_DB = "sandbox"


class SandboxRouter:
    def db_for_read(self, model, **hints):
        return SANDBOX_DB if model._meta.app_label == SANDBOX_APP else None

    def db_for_write(self, model, **hints):
        return SANDBOX_DB if model._meta.app_label == SANDBOX_APP else None

    def allow_relation(self, obj1, obj2, **hints):
        in_sandbox = {obj1._meta.app_label == SANDBOX_APP, obj2._meta.app_label == SANDBOX_APP}
        return None if in_sandbox == {False} else len(in_sandbox) == 1

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == SANDBOX_APP:
            return db == SANDBOX_DB
        return db != SANDBOX_DB

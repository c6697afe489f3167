from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Data sources"

    def ready(self) -> None:
        # The CDP's pages name this app's sources and show its connections on the home page.
        from cdp import extensions
        from integrations import checks, home_selectors, services  # noqa: F401 - checks registers the system checks
        from integrations.salesforce import client, writeback

        extensions.source_namer_register(home_selectors.source_names)
        extensions.dashboard_provider_register(home_selectors.dashboard_context)
        # A subscribe/unsubscribe made in Inflow is queued for Salesforce in the change's own transaction.
        extensions.permission_change_hook_register(writeback.enqueue_for_change)
        extensions.permission_note_provider_register(writeback.permission_notes)
        # A connection's client keeps its refreshed tokens and API usage in the database.
        client.token_store_factory_register(services.ConnectionTokenStore)

        # qcluster workers stop at a sync checkpoint on SIGTERM and recover lost runs when they start.
        from django_q.signals import post_spawn

        from integrations.salesforce import shutdown

        post_spawn.connect(shutdown.on_worker_spawn, dispatch_uid="integrations.sync.worker_spawn")

from django.apps import AppConfig


class SalesforceSandboxConfig(AppConfig):
    name = "salesforce_sandbox"
    verbose_name = "Salesforce sandbox org"

from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding"

    def ready(self) -> None:
        # The data sources meet the limits of the plan chosen on the "Select a plan" step.
        from integrations import plan_limits
        from onboarding.plans import workspace_plan_limits

        plan_limits.limits_provider_register(workspace_plan_limits)

        # The data source's settings pages edit what these steps chose, with the steps' forms and saves.
        from integrations import source_settings
        from onboarding import salesforce_steps

        for page, step in salesforce_steps.SETTINGS_PAGES.items():
            source_settings.settings_section_register(page, step)

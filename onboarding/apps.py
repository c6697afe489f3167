from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding"

    def ready(self) -> None:
        # The data sources meet the limits of the plan chosen on the "Select a plan" step.
        from integrations import plan_limits
        from onboarding.plans import workspace_plan_limits

        plan_limits.limits_provider_register(workspace_plan_limits)

from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from enrollment import receivers
        from roster import hooks as roster_hooks
        from verifications import hooks as verifications_hooks

        roster_hooks.contract_renewals.register(receivers.contract_renewals)
        roster_hooks.dashboard_enrollments.register(receivers.dashboard_enrollments)
        verifications_hooks.payers.register(receivers.payers)

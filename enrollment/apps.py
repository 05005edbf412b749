from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from credex import dashboard
        from enrollment import receivers, selectors
        from roster import hooks as roster_hooks
        from verifications import hooks as verifications_hooks

        roster_hooks.contract_renewals.register(receivers.contract_renewals)
        # The payer-enrollment card (between the PSV queue, 50, and screening, 65).
        dashboard.block_register(
            "enrollments",
            order=60,
            build=lambda org, today, **_: selectors.dashboard_block(org=org, today=today),
        )
        verifications_hooks.payer_contacts.register(receivers.payer_contacts)

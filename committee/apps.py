from django.apps import AppConfig


class CommitteeConfig(AppConfig):
    name = "committee"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from committee import receivers
        from verifications import hooks as verifications_hooks

        verifications_hooks.package_committee_review.register(receivers.package_committee_review)

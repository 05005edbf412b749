from django.apps import AppConfig


class VerificationsConfig(AppConfig):
    name = "verifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from credex import member_hooks
        from credex.jobs import JobKind, job_kind_register
        from verifications import receivers

        member_hooks.membership_removal_preview.register(receivers.open_work)
        member_hooks.membership_removed.register(receivers.reassign)
        from verifications.models import CredentialPackage, PackageStatus
        from verifications.services import packages

        # Its task holds the package's row lock while it builds (package_build).
        job_kind_register(
            JobKind(
                name="verifications.package",
                model=CredentialPackage,
                queued=(PackageStatus.QUEUED,),
                running=(PackageStatus.BUILDING,),
                publish=packages.package_publish,
                fail=lambda org, package, reason: packages.package_fail(
                    org=org, package_id=package.pk, error=reason
                ),
            )
        )

from django.apps import AppConfig


class VerificationsConfig(AppConfig):
    name = "verifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from credex import dashboard, member_hooks, org_hooks
        from credex.jobs import JobKind, job_kind_register
        from roster import hooks as roster_hooks
        from screening import hooks as screening_hooks
        from verifications import receivers as member_receivers
        from verifications.models import CredentialPackage, PackageStatus
        from verifications.selectors import queue
        from verifications.services import hooks as receivers
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
        # What verifications does when the roster and screening act (see their hooks.py).
        roster_hooks.document_received.register(receivers.document_received)
        roster_hooks.documents_imported.register(receivers.documents_imported)
        screening_hooks.run_screened.register(receivers.run_screened)
        screening_hooks.nppes_checked.register(receivers.nppes_checked)
        screening_hooks.sam_api_checked.register(receivers.sam_api_checked)
        screening_hooks.sam_api_check_last.register(receivers.sam_api_check_last)
        dashboard.block_register("psv", order=50, build=queue.dashboard_psv_block)
        # A member removed: their open PSV requests go to the remover or are unassigned.
        member_hooks.membership_removal_preview.register(member_receivers.open_work)
        member_hooks.membership_removed.register(member_receivers.reassign)
        # Billing restored writes: extractions skipped while read-only run now.
        org_hooks.writes_resumed.register(receivers.writes_resumed)

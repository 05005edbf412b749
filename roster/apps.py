from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "roster"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from credex import member_hooks, org_hooks
        from credex.jobs import JobKind, job_kind_register
        from roster import receivers
        from roster.models import ImportJob, ImportStatus
        from roster.selectors.dashboard import dashboard_blocks_register
        from roster.services import imports

        # Its task holds an advisory lock on the job id while it runs (the job row itself is
        # updated by a second connection, so the task must not lock it).
        job_kind_register(
            JobKind(
                name="roster.import",
                model=ImportJob,
                queued=(ImportStatus.QUEUED,),
                running=(ImportStatus.VALIDATING, ImportStatus.IMPORTING),
                publish=imports.import_job_publish,
                fail=lambda org, job, reason: imports.import_job_fail(
                    org=org, job=job, reason=reason
                ),
                advisory_key=lambda job: f"import:{job.pk}",
            )
        )
        dashboard_blocks_register()  # credex.dashboard composes every app's blocks
        # A member removed: their providers and open inbox items go to the remover or nobody.
        member_hooks.membership_removal_preview.register(receivers.open_work)
        member_hooks.membership_removed.register(receivers.reassign)
        # Billing restored writes: what the inbox skipped while read-only runs now.
        org_hooks.writes_resumed.register(receivers.writes_resumed)

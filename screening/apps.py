from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from credex import dashboard
        from credex.jobs import JobKind, job_kind_register
        from roster import hooks as roster_hooks
        from screening import selectors
        from screening.models import RunStatus, ScreeningRun
        from screening.services import hooks as receivers
        from screening.services import runs

        # Its task holds the run's row lock while it runs (screening_run_execute).
        job_kind_register(
            JobKind(
                name="screening.run",
                model=ScreeningRun,
                queued=(RunStatus.QUEUED,),
                running=(RunStatus.RUNNING,),
                publish=runs._enqueue,
                fail=lambda org, run, reason: runs.screening_run_fail(
                    org=org, run_id=run.pk, error=reason
                ),
                # Screening keeps running for a read-only organization (credex/writes.py).
                runs_while_read_only=True,
            )
        )
        # What screening does when the roster acts (see roster/hooks.py).
        roster_hooks.provider_screening_due.register(receivers.provider_screening_due)
        roster_hooks.roster_imported.register(receivers.roster_imported)
        roster_hooks.provider_flags.register(selectors.provider_flag_source)
        dashboard.block_register("screening", order=65, build=selectors.dashboard_screening_block)

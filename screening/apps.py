from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from credex.jobs import JobKind, job_kind_register
        from screening.models import RunStatus, ScreeningRun
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
            )
        )

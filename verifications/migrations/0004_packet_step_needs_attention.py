from django.db import migrations, models

# A step whose record came back as a discrepancy or "unable to verify" used to be marked done.
# It now needs attention (issue 10.2). Existing steps are corrected per organization: the
# table has FORCE ROW LEVEL SECURITY, so the update runs once inside each organization's
# setting. Packets that were completed on such a step stay complete (their completion is an
# audit event; reopening them is a coordinator's decision), but the step shows what happened.
CORRECT = """
DO $$
DECLARE o uuid;
BEGIN
    FOR o IN SELECT id FROM credex_organization LOOP
        PERFORM set_config('app.current_org', o::text, true);
        UPDATE verifications_packetstep
           SET status = 'needs_attention',
               detail = detail || jsonb_build_object(
                   'attention',
                   CASE detail->>'result'
                       WHEN 'unable' THEN 'The check came back as “unable to verify”.'
                       ELSE 'The check came back as “discrepancy”.'
                   END)
         WHERE status = 'done' AND detail->>'result' IN ('discrepancy', 'unable');
    END LOOP;
    PERFORM set_config('app.current_org', '', true);
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("verifications", "0003_extraction_one_per_extractor"),
        ("credex", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="packetstep",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("done", "Done"),
                    ("needs_attention", "Needs attention"),
                    ("failed", "Failed"),
                    ("skipped", "Skipped"),
                ],
                default="pending",
                max_length=20,
            ),
        ),
        migrations.RunSQL(CORRECT, migrations.RunSQL.noop),
    ]

from django.db import migrations

from credex.db import CREATE_FUNCTIONS, DROP_FUNCTIONS, EnableRLS, SameOrgForeignKey


class Migration(migrations.Migration):
    dependencies = [("credex", "0001_initial")]

    operations = [
        migrations.RunSQL(CREATE_FUNCTIONS, DROP_FUNCTIONS),
        # A user reads their own memberships in every organization (the switcher).
        EnableRLS("credex.Membership", read_also="user_id = credex_current_user()"),
        EnableRLS("credex.Invitation"),
        # The API-key middleware may read the one key whose prefix was presented.
        EnableRLS("credex.ApiKey",
                  read_also="prefix = NULLIF(current_setting('app.api_key_prefix', true), '')"),
        SameOrgForeignKey("credex.Invitation", "invited_by", "credex.Membership"),
        SameOrgForeignKey("credex.ApiKey", "created_by", "credex.Membership"),
    ]

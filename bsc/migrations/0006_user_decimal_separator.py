# The person's decimal separator for typing numbers (issue 15, item 4): kept across log-ins.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bsc", "0005_organization_require_two_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="decimal_separator",
            field=models.CharField(
                choices=[(".", "1234.5 (point)"), (",", "1234,5 (comma)")],
                default=".",
                help_text="How this person types numbers on the data-entry page: 1234.5 or 1234,5.",
                max_length=1,
            ),
        ),
    ]

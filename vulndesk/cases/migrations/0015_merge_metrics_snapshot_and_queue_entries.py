# The metrics' snapshots and the queue's entries were written side by side.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0014_h14d_metrics_snapshot"),
        ("cases", "0014_merge_queue_entries_and_evidence"),
    ]

    operations = []

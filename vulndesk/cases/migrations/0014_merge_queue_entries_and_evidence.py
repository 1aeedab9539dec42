# The queue's entries and labels and the evidence / saved replies were written side by side.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_h14a_queue_entry_and_labels"),
        ("cases", "0013_h17b_saved_replies"),
    ]

    operations = []

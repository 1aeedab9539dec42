"""Messages keep their HTML, rendered once when written; messages already stored are rendered now."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def render_stored_messages(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from vulndesk.crypto import open_sealed, seal  # noqa: PLC0415 - only when migrating
    from vulndesk.web.markdown import render_bounded  # noqa: PLC0415

    message_model = apps.get_model("cases", "Message")
    for message in message_model.objects.filter(sealed_html="").iterator(chunk_size=200):
        body = open_sealed(message.sealed_body, context=f"message:{message.uid}")
        message.sealed_html = seal(render_bounded(body), context=f"message:{message.uid}:html")
        message.save(update_fields=["sealed_html"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_fixplan_backportentry")]

    operations = [
        migrations.AddField(model_name="message", name="sealed_html", field=models.TextField(blank=True)),
        migrations.RunPython(render_stored_messages, migrations.RunPython.noop),
    ]

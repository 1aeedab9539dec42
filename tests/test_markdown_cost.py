

def test_messages_stored_before_the_change_get_their_html_when_migrating(project_a: Project) -> None:
    report = a_report(project_a)
    message = do_post_reporter_reply(report, "*old*", via=Via.WEB, acting_user=None)
    Message.objects.filter(pk=message.pk).update(sealed_html="")  # as a row written before 0009
    stored = Message.objects.get(pk=message.pk)
    assert stored.html == '<pre class="plain-text">*old*</pre>'  # shown as typed, never parsed on read
    migration = importlib.import_module("vulndesk.cases.migrations.0009_h16a_message_html")
    migration.render_stored_messages(django_apps, connection.schema_editor())
    assert Message.objects.get(pk=message.pk).html == "<p><em>old</em></p>\n"

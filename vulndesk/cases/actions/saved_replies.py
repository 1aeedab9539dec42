"""Creating, editing and deleting a project's saved replies (their text and placeholders:
``cases/saved_replies.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from vulndesk.audit.actions import record_event
from vulndesk.cases.models import SavedReply
from vulndesk.cases.saved_replies import MAX_BODY, MAX_NAME, SavedReplyError, check_template
from vulndesk.intake.submission import clean_text

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.projects.models import Project


def _checked(name: str, body: str) -> tuple[str, str]:
    name, body = clean_text(name).strip(), clean_text(body).strip()
    if not name or len(name) > MAX_NAME:
        raise SavedReplyError(f"give the reply a name of at most {MAX_NAME} characters")
    if not body or len(body) > MAX_BODY:
        raise SavedReplyError(f"write the reply's text (at most {MAX_BODY} characters)")
    check_template(body)
    return name, body


def do_create_saved_reply(project: Project, *, name: str, body: str, acting_user: User) -> SavedReply:
    name, body = _checked(name, body)
    try:
        with transaction.atomic():
            reply = SavedReply.objects.create(project=project, name=name, body=body, updated_by=acting_user)
            _audit("saved_reply.created", reply, acting_user)
    except IntegrityError:
        raise SavedReplyError(f"a saved reply named {name!r} already exists") from None
    return reply


def do_edit_saved_reply(reply: SavedReply, *, name: str, body: str, acting_user: User) -> SavedReply:
    name, body = _checked(name, body)
    try:
        with transaction.atomic():
            reply.name, reply.body = name, body
            reply.updated_at, reply.updated_by = timezone.now(), acting_user
            reply.save()
            _audit("saved_reply.edited", reply, acting_user)
    except IntegrityError:
        raise SavedReplyError(f"a saved reply named {name!r} already exists") from None
    return reply


def do_delete_saved_reply(reply: SavedReply, *, acting_user: User) -> None:
    with transaction.atomic():
        _audit("saved_reply.deleted", reply, acting_user)
        reply.delete()


def _audit(event: str, reply: SavedReply, acting_user: User) -> None:
    record_event(
        event, acting_user=acting_user, project=reply.project, target=reply, details={"name": reply.name}
    )

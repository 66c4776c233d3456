"""Writing comments: post one (or a reply), edit its text, delete it. Each write checks the text, saves the comment,
its mentions and the mention notifications in one transaction, so a refused comment leaves nothing behind."""

from __future__ import annotations

from dataclasses import dataclass, field

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bsc.models import User
from bsc.validation import validated_save
from coaching.digests import absolute
from coaching.models import Notification, NotificationChannel, NotificationKind
from comments.mentions import mentions_resolve
from comments.models import MAX_LENGTH, TARGET_FIELDS, Comment, CommentMention
from comments.targets import Target, target_for

SNIPPET = 300  # characters of the comment a mention notification quotes


@dataclass
class Posted:
    """A saved comment, and the names written after @ that are no member of the organization (not notified)."""

    comment: Comment
    not_notified: list[str] = field(default_factory=list)


def _clean_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ValidationError({"body": ["Write something before posting: the comment is empty."]})
    if len(text) > MAX_LENGTH:
        raise ValidationError(
            {"body": [f"A comment has at most {MAX_LENGTH:,} characters; this one has {len(text):,}. Shorten it."]}
        )
    return text


def _person(user: User | None) -> str:
    return (user.full_name or user.email) if user else "Someone"


def _mentions_save(*, comment: Comment, target: Target, by: User) -> list[str]:
    """Make the comment's mentions those of its text now, and notify each member named for the first time in this
    comment (a unique dedupe key per comment and person: an edit never notifies anyone twice)."""
    found = mentions_resolve(organization=comment.organization, text=comment.body)
    mentions = CommentMention.objects.for_organization(comment.organization_id)
    mentions.filter(comment=comment).exclude(user__in=found.users).delete()
    CommentMention.objects.bulk_create(
        [CommentMention(organization_id=comment.organization_id, comment=comment, user=user) for user in found.users],
        ignore_conflicts=True,
    )
    subject = f"{_person(by)} mentioned you in a comment on {target.label}"[:255]
    snippet = comment.body if len(comment.body) <= SNIPPET else comment.body[: SNIPPET - 1] + "…"
    Notification.objects.bulk_create(
        [
            Notification(
                organization_id=comment.organization_id,
                recipient=user,
                kind=NotificationKind.MENTION,
                subject=subject,
                body=f"{snippet}\n\nOpen the thread: {absolute(target.page)}#comment-{comment.pk}",
                link=f"{target.page}#comment-{comment.pk}"[:500],
                dedupe_key=f"mention:{comment.pk}:{user.pk}",
                channel=NotificationChannel.IN_APP,
                created_at=timezone.now(),
            )  # fmt: skip
            for user in found.users
            if user.pk != by.pk  # naming yourself notifies nobody
        ],
        ignore_conflicts=True,
    )
    return found.unknown


@transaction.atomic
def comment_create(*, target: Target, author: User, body: str, parent: Comment | None = None) -> Posted:
    """Post a comment on the target, or a reply to one of its comments. A reply to a reply joins the thread of the
    top comment (one level of replies)."""
    text = _clean_body(body)
    organization = target.item.organization
    if parent is not None:
        if (
            parent.organization_id != organization.pk
            or parent.target_kind != target.kind
            or (parent.target_id != target.item.pk)
        ):
            raise ValidationError({"parent": ["The comment you reply to is on another item."]})
        if parent.parent_id is not None:
            parent = parent.parent
        if parent.is_deleted:
            raise ValidationError({"parent": ["That comment was deleted: start a new comment instead."]})
    comment = Comment(
        organization=organization, parent=parent, author=author, body=text, created_at=timezone.now(), **target.filter
    )
    with pghistory.context(user=author.pk):
        validated_save(comment)
    return Posted(comment, _mentions_save(comment=comment, target=target, by=author))


@transaction.atomic
def comment_edit(*, comment: Comment, by: User, body: str) -> Posted:
    """Change the comment's text; the earlier text stays in its history. Members named for the first time are
    notified; those named before are not notified again."""
    if comment.is_deleted:
        raise ValidationError({"body": ["This comment was deleted; it cannot be edited."]})
    text = _clean_body(body)
    target = target_for(comment.target_kind, _target_item(comment), slug=comment.organization.slug)
    if text == comment.body:
        return Posted(comment, mentions_resolve(organization=comment.organization, text=text).unknown)
    comment.body = text
    comment.edited_at = timezone.now()
    with pghistory.context(user=by.pk):
        validated_save(comment)
    return Posted(comment, _mentions_save(comment=comment, target=target, by=by))


@transaction.atomic
def comment_delete(*, comment: Comment, by: User) -> Comment:
    """Delete the comment: "deleted" stays in its place, its replies stay, its text is kept only in history."""
    if comment.is_deleted:
        return comment
    comment.body = ""
    comment.deleted_at = timezone.now()
    comment.deleted_by = by
    with pghistory.context(user=by.pk, deleted=True):
        validated_save(comment)
    CommentMention.objects.for_organization(comment.organization_id).filter(comment=comment).delete()
    return comment


def _target_item(comment: Comment):
    return getattr(comment, TARGET_FIELDS[comment.target_kind])


def mentions_mark_read(*, target: Target, user: User) -> int:
    """Mark the user's unread mentions in the item's thread read: they have seen the thread, so their next daily
    digest does not list them again (one UPDATE)."""
    ids = (
        Comment.objects.for_organization(target.item.organization_id)
        .filter(**target.filter)
        .values_list("pk", flat=True)
    )
    keys = [f"mention:{pk}:{user.pk}" for pk in ids]
    if not keys:
        return 0
    return (
        Notification.objects.for_organization(target.item.organization_id)
        .filter(recipient=user, kind=NotificationKind.MENTION, read_at__isnull=True, dedupe_key__in=keys)
        .update(read_at=timezone.now())
    )

"""Reading threads: an item's comments with their replies, authors, mentions and earlier versions, in a fixed
number of queries whatever the thread's length."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch

from bsc.models import Membership
from bsc.permissions import may_comment, may_delete_comment, may_edit_comment
from comments.models import Comment, CommentMention
from comments.targets import Target


@dataclass
class ThreadComment:
    comment: Comment
    can_edit: bool
    can_delete: bool
    versions: list = field(default_factory=list)  # earlier texts, newest first (pghistory events)
    replies: list[ThreadComment] = field(default_factory=list)


def comment_list(*, target: Target):
    """The item's comments (replies too), oldest first, with their authors and mentioned members."""
    mentions = CommentMention.objects.for_organization(target.item.organization_id).select_related("user")
    return (
        Comment.objects.for_organization(target.item.organization_id)
        .filter(**target.filter)
        .select_related("author", "deleted_by")
        .prefetch_related(Prefetch("mentions", queryset=mentions))
        .order_by("created_at", "id")
    )


def comment_versions(comments: list[Comment]) -> dict[int, list]:
    """The earlier texts of the edited comments: {comment id: [events, newest first]} (the current text left out)."""
    edited = [c.pk for c in comments if c.edited_at is not None]
    if not edited:
        return {}
    versions: dict[int, list] = {}
    events = Comment.pgh_event_model.objects.filter(pgh_obj_id__in=edited).order_by("-pgh_created_at", "-pgh_id")
    for event in events:
        versions.setdefault(event.pgh_obj_id, []).append(event)
    return {pk: rows[1:] for pk, rows in versions.items()}  # every change of the text is an event: the first is now


def thread(*, target: Target, membership: Membership) -> list[ThreadComment]:
    """The item's top comments, oldest first, each with its replies, and what the member may do with each."""
    comments = list(comment_list(target=target))
    versions = comment_versions(comments)

    def entry(comment: Comment) -> ThreadComment:
        live = not comment.is_deleted
        return ThreadComment(
            comment,
            can_edit=live and may_edit_comment(membership, author_id=comment.author_id),
            can_delete=live and may_delete_comment(membership, author_id=comment.author_id),
            versions=versions.get(comment.pk, []) if live else [],
        )

    top: dict[int, ThreadComment] = {}
    for comment in comments:
        if comment.parent_id is None:
            top[comment.pk] = entry(comment)
    for comment in comments:
        if comment.parent_id is not None and comment.parent_id in top:
            top[comment.parent_id].replies.append(entry(comment))
    return list(top.values())


def thread_context(*, target: Target, membership: Membership) -> dict:
    comments = thread(target=target, membership=membership)
    return {
        "target": target,
        "comments": comments,
        "count": sum(not e.comment.is_deleted for c in comments for e in [c, *c.replies]),
        "can_comment": may_comment(membership),
    }

"""Comments on a KPI, an objective, an initiative or an action item (issue 18): one level of replies, Markdown
sanitised like session notes, @mentions that notify once, edits kept in history (pghistory), deletes that leave
"deleted" in the thread (docs/features.md, "Comments")."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q

from bsc.models import Initiative, Objective, Organization, User
from bsc.tenancy import OrgManager
from coaching.models import ActionItem
from kpis.models import Kpi

MAX_LENGTH = 4000

# What a comment can be on: the URL's and the API's name of each kind, and the comment's field that holds it.
TARGET_FIELDS = {"kpi": "kpi", "objective": "objective", "initiative": "initiative", "action-item": "action_item"}


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange("body")),
    fields=["body"],
    model_name="CommentEvent",
)
class Comment(models.Model):
    """One comment, or a reply to one (`parent`, one level: a reply to a reply joins its thread's top comment).

    Exactly one of `kpi`, `objective`, `initiative` and `action_item` names what it is on. Each change of the text is
    kept in history (pghistory): the earlier versions stay readable after an edit. A deleted comment keeps its row
    with an empty body and `deleted_at`, so its replies keep their place in the thread."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField(blank=True, max_length=MAX_LENGTH, help_text="Markdown.")
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = OrgManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kpi__isnull=False, objective=None, initiative=None, action_item=None)
                    | Q(kpi=None, objective__isnull=False, initiative=None, action_item=None)
                    | Q(kpi=None, objective=None, initiative__isnull=False, action_item=None)
                    | Q(kpi=None, objective=None, initiative=None, action_item__isnull=False)
                ),
                name="comment_on_exactly_one_item",
                violation_error_message="A comment is on exactly one KPI, objective, initiative or action item.",
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=False) | ~Q(body=""),
                name="comment_has_text_unless_deleted",
                violation_error_message="Write something before posting.",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} by {self.author_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def target_kind(self) -> str:
        return next(kind for kind, field in TARGET_FIELDS.items() if getattr(self, f"{field}_id") is not None)

    @property
    def target_id(self) -> int:
        return getattr(self, f"{TARGET_FIELDS[self.target_kind]}_id")


class CommentMention(models.Model):
    """A member named with @ in a comment's current text; each is notified once (coaching.Notification, kind
    "mention", dedupe key `mention:<comment>:<user>`), whatever the number of edits."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    objects = OrgManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="comment_mention_once")]

    def __str__(self) -> str:
        return f"@{self.user_id} in comment {self.comment_id}"

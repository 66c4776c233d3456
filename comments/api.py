"""Comments in the API (issue 18): `comments/{kind}/{id}/` lists an item's comments (GET) and posts one or a reply
(POST); `comments/{id}/` reads one, changes its text (PATCH, its author) and deletes it (DELETE, its author or an
admin: "deleted" stays in the thread). Every role but viewers may write; the item's organization is the URL's."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from bsc.api.base import OrganizationScopedMixin
from bsc.permissions import COMMENT, may_comment, may_delete_comment, may_edit_comment
from coaching.rendering import markdown_html
from comments import services
from comments.models import MAX_LENGTH, Comment
from comments.selectors import comment_list
from comments.targets import KINDS, target_get


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(read_only=True)


class CommentSerializer(serializers.ModelSerializer):
    """A comment; a deleted one keeps its place (and its replies) with `deleted` true and an empty body."""

    kind = serializers.ChoiceField(
        source="target_kind", choices=list(KINDS), read_only=True, help_text="What it is on."
    )
    target = serializers.IntegerField(source="target_id", read_only=True, help_text="The id of what it is on.")
    parent = serializers.IntegerField(
        source="parent_id", read_only=True, allow_null=True, help_text="The comment it replies to (one level)."
    )
    author = PersonSerializer(read_only=True, allow_null=True)
    body = serializers.CharField(read_only=True, help_text="Markdown, as written (empty once deleted).")
    html = serializers.SerializerMethodField(help_text="The body as sanitised HTML (as the pages show it).")
    mentions = serializers.SerializerMethodField(help_text="The members the text names with @ (each notified once).")
    deleted = serializers.BooleanField(source="is_deleted", read_only=True)

    class Meta:
        model = Comment
        fields = [
            "id", "kind", "target", "parent", "author", "body", "html", "mentions", "created_at", "edited_at",
            "deleted", "deleted_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_html(self, comment: Comment) -> str:
        return str(markdown_html(comment.body)) if comment.body else ""

    @extend_schema_field(PersonSerializer(many=True))
    def get_mentions(self, comment: Comment) -> list[dict]:
        return PersonSerializer([m.user for m in comment.mentions.all()], many=True).data


class PostedSerializer(CommentSerializer):
    not_notified = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Names written after @ that are no member of the organization (or not one): plain text, nobody "
        "notified.",
    )  # fmt: skip

    class Meta(CommentSerializer.Meta):
        fields = [*CommentSerializer.Meta.fields, "not_notified"]
        read_only_fields = fields


class CommentWriteSerializer(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True, trim_whitespace=False, max_length=MAX_LENGTH * 4,
        help_text=f"Markdown, at most {MAX_LENGTH:,} characters; @ and a member's e-mail address (or the part before "
        "the @) mentions them.",
    )  # fmt: skip
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1, help_text="Reply to this comment.")


class CommentEditSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=MAX_LENGTH * 4)


def _posted(posted: services.Posted, context: dict) -> dict:
    posted.comment.not_notified = posted.not_notified
    return PostedSerializer(posted.comment, context=context).data


class CommentScopedMixin(OrganizationScopedMixin):
    def check_write_permission(self) -> None:
        if not may_comment(self.membership):
            role = self.membership.get_role_display().lower()
            raise exceptions.PermissionDenied(f"Your role ({role}) does not allow this: {COMMENT}.")


KIND_PARAMETER = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, enum=list(KINDS), description="What the comments are on."
)


@extend_schema(tags=["comments"], parameters=[KIND_PARAMETER])
class CommentListApi(CommentScopedMixin, generics.ListAPIView):
    """An item's comments and replies, oldest first (each reply names its `parent`); POST posts one. Another
    organization's item is a 404; an action item the member may not see is a 403."""

    serializer_class = CommentSerializer
    queryset = Comment.objects.none()

    def target(self):
        return target_get(membership=self.membership, kind=self.kwargs["kind"], pk=self.kwargs["target_id"])

    def get_organization_queryset(self):
        return comment_list(target=self.target())

    @extend_schema(
        request=CommentWriteSerializer,
        responses={201: PostedSerializer},
        description=(
            "Post a comment (or, with `parent`, a reply: a reply to a reply joins its thread's top comment). Members "
            "named with @ are notified once, in their inbox and daily digest; names that are no member are listed "
            "in `not_notified` and stay plain text. An empty or too long body is a 400 naming `body`."
        ),
    )
    def post(self, request, *args, **kwargs):
        target = self.target()
        body = CommentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        parent = None
        if body.validated_data.get("parent"):
            parent = (
                Comment.objects.for_organization(self.organization).filter(pk=body.validated_data["parent"]).first()
            )
            if parent is None:
                raise exceptions.ValidationError({"parent": ["No such comment in this organization."]})
        posted = services.comment_create(
            target=target, author=request.user, body=body.validated_data["body"], parent=parent
        )
        return Response(_posted(posted, self.get_serializer_context()), status=status.HTTP_201_CREATED)


@extend_schema_view(
    patch=extend_schema(request=CommentEditSerializer, responses={200: PostedSerializer},
                        description="Change the text (its author only); the earlier text stays in its history. "
                        "Members named for the first time are notified; nobody is notified twice."),
    delete=extend_schema(description="Delete the comment (its author, or an admin): it stays in the thread as "
                         "deleted, with its replies."),
)  # fmt: skip
@extend_schema(tags=["comments"])
class CommentDetailApi(CommentScopedMixin, generics.RetrieveAPIView):
    """One comment."""

    serializer_class = CommentSerializer
    queryset = Comment.objects.none()

    def get_organization_queryset(self):
        return (
            Comment.objects.for_organization(self.organization)
            .select_related("author")
            .prefetch_related("mentions__user")
        )

    def get_object(self):
        comment = super().get_object()
        target_get(membership=self.membership, kind=comment.target_kind, pk=comment.target_id)  # may they read it
        return comment

    def patch(self, request, *args, **kwargs):
        comment = self.get_object()
        if not may_edit_comment(self.membership, author_id=comment.author_id):
            raise exceptions.PermissionDenied("Only its author may edit a comment.")
        body = CommentEditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        posted = services.comment_edit(comment=comment, by=request.user, body=body.validated_data["body"])
        return Response(_posted(posted, self.get_serializer_context()))

    def delete(self, request, *args, **kwargs):
        comment = self.get_object()
        if not may_delete_comment(self.membership, author_id=comment.author_id):
            raise exceptions.PermissionDenied("Only its author or an admin may delete a comment.")
        services.comment_delete(comment=comment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

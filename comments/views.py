"""Comment pages: an item's thread (a panel that KPI, map, initiative and action item pages load with htmx, and a
page of its own without script), posting, editing and deleting. Each answers the re-drawn thread to htmx."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from bsc.access import member_view
from bsc.forms import add_service_error
from bsc.permissions import COMMENT, may_comment, may_delete_comment, may_edit_comment
from comments import selectors, services
from comments.forms import CommentForm
from comments.models import Comment
from comments.targets import KIND_WORDS, Target, target_get


def _thread_url(request, target: Target) -> str:
    return reverse("comment_thread", args=[request.organization.slug, target.kind, target.item.pk])


def _render(request, target: Target, *, form: CommentForm | None = None, notice: str = "", warning: str = "",
            error: str = "", editing: dict | None = None):  # fmt: skip
    context = selectors.thread_context(target=target, membership=request.membership) | {
        "form": form or CommentForm(),
        "thread_url": _thread_url(request, target),
        "kind_word": KIND_WORDS[target.kind],
        "notice": notice,
        "warning": warning,
        "error": error,
        "editing": editing or {},
    }
    template = "comments/thread.html#panel" if request.htmx else "comments/thread.html"
    return render(request, template, context)


def _not_notified(names: list[str]) -> str:
    if not names:
        return ""
    listed = ", ".join(names)
    return f"Not notified: {listed} {'is' if len(names) == 1 else 'are'} no member of this organization (or not one " \
           "person: write the full e-mail address)."  # fmt: skip


def _comment_for_member(request, pk: int) -> tuple[Comment, Target]:
    """A comment of the organization and its item (404 for another organization's, as for its item)."""
    comment = Comment.objects.for_organization(request.organization).select_related("author").filter(pk=pk).first()
    if comment is None:
        raise Http404("No such comment.")
    target = target_get(membership=request.membership, kind=comment.target_kind, pk=comment.target_id)
    return comment, target


@require_http_methods(["GET", "POST"])
@member_view
def comment_thread(request, kind: str, pk: int):
    target = target_get(membership=request.membership, kind=kind, pk=pk)
    if request.method == "GET":
        services.mentions_mark_read(target=target, user=request.user)  # seen here: off the next digest
        return _render(request, target)
    if not may_comment(request.membership):
        raise PermissionDenied(f"Your role may not {COMMENT}.")
    form = CommentForm(request.POST)
    if form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            parent = (
                Comment.objects.for_organization(request.organization).filter(pk=form.cleaned_data["parent"]).first()
            )
            if parent is None:
                raise Http404("No such comment.")
        try:
            posted = services.comment_create(
                target=target, author=request.user, body=form.cleaned_data["body"], parent=parent
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if not request.htmx:
                return redirect(f"{_thread_url(request, target)}#comment-{posted.comment.pk}")
            return _render(request, target, notice="Comment posted.", warning=_not_notified(posted.not_notified))
    return _render(request, target, form=form)


@require_POST
@member_view
def comment_edit(request, pk: int):
    comment, target = _comment_for_member(request, pk)
    if not may_edit_comment(request.membership, author_id=comment.author_id):
        raise PermissionDenied("Only its author may edit a comment.")
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            posted = services.comment_edit(comment=comment, by=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if not request.htmx:
                return redirect(f"{_thread_url(request, target)}#comment-{comment.pk}")
            return _render(request, target, notice="Comment saved.", warning=_not_notified(posted.not_notified))
    editing = {"pk": comment.pk, "body": request.POST.get("body", "")}
    return _render(request, target, error="Not saved: " + " ".join(form.errors.get("body", [])), editing=editing)


@require_POST
@member_view
def comment_delete(request, pk: int):
    comment, target = _comment_for_member(request, pk)
    if not may_delete_comment(request.membership, author_id=comment.author_id):
        raise PermissionDenied("Only its author or an admin may delete a comment.")
    services.comment_delete(comment=comment, by=request.user)
    if not request.htmx:
        return redirect(_thread_url(request, target))
    return _render(request, target, notice="Comment deleted.")

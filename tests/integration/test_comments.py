"""Comments on KPIs, objectives, initiatives and action items (issue 18): threads with one level of replies, sanitised
Markdown, @mentions that notify once (also after an edit) and reach the daily digest, history of edits, soft deletes,
the pages' htmx panel, the API, and another organization's items answering 404."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from bsc import strategy
from bsc.models import Perspective, Role
from bsc.tenancy import organization_scope
from coaching import services as coaching
from coaching.models import Notification
from coaching.reminders import reminders_decide
from comments import services
from comments.models import Comment, CommentMention
from comments.targets import target_get
from kpis import services as kpis
from tests import factories


@pytest.fixture
def items(world):
    """Acme's KPI, objective, initiative and action item, and Globex's KPI."""
    with organization_scope(world.org_a):
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        objective = strategy.objective_create(perspective=band, name="Delight customers")
        initiative = strategy.initiative_create(objective=objective, name="Service training")
        kpi = kpis.kpi_create(unit=world.company_a, name="Net promoter score", code="NPS", baseline=Decimal(0))
        item = coaching.action_item_create(
            organization=world.org_a, title="Call the unhappy customers", owner=world.admin_a,
            created_by=world.admin_a, due_date=timezone.localdate() + timedelta(days=3), unit=world.company_a,
        )  # fmt: skip
    with organization_scope(world.org_b):
        foreign = kpis.kpi_create(unit=world.unit_b, name="Globex NPS", code="GNPS", baseline=Decimal(0))
    return {"kpi": kpi, "objective": objective, "initiative": initiative, "action-item": item, "foreign": foreign}


@pytest.fixture
def carla(world):
    return factories.carla_coach(world)


def _target(world, kind, item, user=None):
    membership = world.membership(user or world.admin_a)
    return target_get(membership=membership, kind=kind, pk=item.pk)


def _notifications(world, user):
    return list(Notification.objects.for_organization(world.org_a).filter(recipient=user, kind="mention"))


# --- Services --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["kpi", "objective", "initiative", "action-item"])
def test_a_comment_and_a_reply_on_each_kind_of_item_make_a_thread(world, items, kind):
    target = _target(world, kind, items[kind])
    first = services.comment_create(target=target, author=world.admin_a, body="Why did this drop?").comment
    reply = services.comment_create(target=target, author=world.admin_a, body="Supplier delay.", parent=first).comment
    deeper = services.comment_create(target=target, author=world.admin_a, body="Fixed now.", parent=reply).comment
    assert (reply.parent_id, deeper.parent_id) == (first.pk, first.pk)  # one level: a reply to a reply joins
    assert first.target_kind == kind and first.target_id == items[kind].pk


def test_an_empty_or_too_long_comment_is_refused_and_nothing_is_saved(world, items):
    target = _target(world, "kpi", items["kpi"])
    with pytest.raises(ValidationError) as empty:
        services.comment_create(target=target, author=world.admin_a, body="   \n ")
    assert empty.value.message_dict == {"body": ["Write something before posting: the comment is empty."]}
    with pytest.raises(ValidationError) as long:
        services.comment_create(target=target, author=world.admin_a, body="x" * 4001 + " @carla")
    assert long.value.message_dict == {
        "body": ["A comment has at most 4,000 characters; this one has 4,008. Shorten it."]
    }
    with organization_scope(world.org_a):
        assert Comment.objects.count() == 0 and Notification.objects.count() == 0


def test_a_reply_to_a_comment_on_another_item_is_refused(world, items):
    on_kpi = services.comment_create(target=_target(world, "kpi", items["kpi"]), author=world.admin_a, body="A").comment
    with pytest.raises(ValidationError) as refused:
        services.comment_create(
            target=_target(world, "objective", items["objective"]), author=world.admin_a, body="B", parent=on_kpi
        )
    assert refused.value.message_dict == {"parent": ["The comment you reply to is on another item."]}


def test_markdown_with_scripts_and_javascript_links_is_sanitised(world, items):
    from coaching.rendering import markdown_html

    body = '**Bold** <script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror="alert(1)">'
    comment = services.comment_create(target=_target(world, "kpi", items["kpi"]), author=world.admin_a, body=body)
    html = markdown_html(comment.comment.body)
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html and "<img" not in html
    assert "click" in html  # the refused link stays as its text


def test_a_mention_notifies_the_member_once_even_after_edits(world, items, carla):
    target = _target(world, "kpi", items["kpi"])
    posted = services.comment_create(target=target, author=world.admin_a, body="@carla can you look at this?")
    assert posted.not_notified == []
    services.comment_edit(comment=posted.comment, by=world.admin_a, body="@carla could you look at this, please?")
    services.comment_edit(comment=posted.comment, by=world.admin_a, body="@carla@acme.example.com please.")
    [notification] = _notifications(world, carla)
    assert notification.subject == "Admin of acme mentioned you in a comment on KPI NPS · Net promoter score"
    assert notification.link == f"/o/acme/kpis/{items['kpi'].pk}/#comment-{posted.comment.pk}"
    assert notification.channel == "in_app" and notification.dedupe_key == f"mention:{posted.comment.pk}:{carla.pk}"
    assert "@carla could" not in notification.body  # the text as first posted


def test_an_edit_that_adds_a_mention_notifies_only_the_new_person(world, items, carla):
    hugo = factories.hugo_head(world)
    posted = services.comment_create(target=_target(world, "kpi", items["kpi"]), author=world.admin_a, body="@carla")
    services.comment_edit(comment=posted.comment, by=world.admin_a, body="@carla and @hugo")
    assert len(_notifications(world, carla)) == 1 and len(_notifications(world, hugo)) == 1
    with organization_scope(world.org_a):
        assert set(CommentMention.objects.values_list("user__email", flat=True)) == {
            "carla@acme.example.com", "hugo@acme.example.com",
        }  # fmt: skip


def test_a_mention_of_someone_outside_the_organization_notifies_nobody_and_says_so(world, items):
    outsider = factories.make_user("zoe@globex.example.com")
    factories.add_member(world.org_b, Role.EXECUTIVE, user=outsider)  # a member of Globex only
    posted = services.comment_create(
        target=_target(world, "kpi", items["kpi"]), author=world.admin_a,
        body="Ask @zoe@globex.example.com and @zoe and @nobody. Mail me at someone@example.com.",
    )  # fmt: skip
    assert posted.not_notified == ["@zoe@globex.example.com", "@zoe", "@nobody"]
    assert Notification.objects.for_organization(world.org_b).filter(recipient=outsider).count() == 0
    assert Notification.objects.for_organization(world.org_a).filter(kind="mention").count() == 0


def test_naming_yourself_notifies_nobody(world, items):
    services.comment_create(target=_target(world, "kpi", items["kpi"]), author=world.admin_a, body="Note to @admin")
    assert _notifications(world, world.admin_a) == []


def test_editing_keeps_the_earlier_text_in_history(world, items):
    from comments.selectors import thread

    posted = services.comment_create(target=_target(world, "kpi", items["kpi"]), author=world.admin_a, body="First")
    services.comment_edit(comment=posted.comment, by=world.admin_a, body="Second")
    services.comment_edit(comment=posted.comment, by=world.admin_a, body="Third")
    [entry] = thread(target=_target(world, "kpi", items["kpi"]), membership=world.membership(world.admin_a))
    assert entry.comment.body == "Third" and entry.comment.edited_at is not None
    assert [version.body for version in entry.versions] == ["Second", "First"]


def test_deleting_leaves_deleted_in_the_thread_and_keeps_the_replies(world, items):
    from comments.selectors import thread

    target = _target(world, "kpi", items["kpi"])
    first = services.comment_create(target=target, author=world.admin_a, body="Secret").comment
    services.comment_create(target=target, author=world.admin_a, body="A reply", parent=first)
    services.comment_delete(comment=first, by=world.admin_a)
    [entry] = thread(target=target, membership=world.membership(world.admin_a))
    assert entry.comment.is_deleted and entry.comment.body == "" and not entry.can_edit and not entry.can_delete
    assert [reply.comment.body for reply in entry.replies] == ["A reply"]
    with pytest.raises(ValidationError):
        services.comment_create(target=target, author=world.admin_a, body="Too late", parent=first)


def test_another_organizations_item_and_a_hidden_action_item_are_not_found(world, items):
    with pytest.raises(Http404):
        _target(world, "kpi", items["foreign"])
    with pytest.raises(Http404):
        target_get(membership=world.membership(world.admin_a), kind="measurement", pk=1)
    with organization_scope(world.org_a), pytest.raises(PermissionDenied):
        _target(world, "action-item", items["action-item"], user=world.viewer_a)


# --- The daily digest ------------------------------------------------------------------------------------


def test_the_daily_digest_lists_unread_mentions_and_reading_them_stops_it(world, items, carla):
    services.comment_create(target=_target(world, "kpi", items["kpi"]), author=world.admin_a, body="@carla look")
    now = timezone.now().replace(hour=9, minute=0) + timedelta(days=1)
    assert reminders_decide(now=now, organization_id=world.org_a.pk, queue_sending=False).written["daily_digest"] == 1
    digest = Notification.objects.for_organization(world.org_a).get(recipient=carla, kind="daily_digest")
    assert digest.subject == "Acme Manufacturing: 1 unread mention"
    assert "Admin of acme mentioned you in a comment on KPI NPS · Net promoter score" in digest.body
    assert f"/o/acme/kpis/{items['kpi'].pk}/#comment-" in digest.html
    assert digest.channel == "email" and digest.link == "/o/acme/inbox/"
    Notification.objects.for_organization(world.org_a).filter(recipient=carla, kind="mention").update(
        read_at=timezone.now()
    )
    reminders_decide(now=now + timedelta(days=1), organization_id=world.org_a.pk, queue_sending=False)
    assert Notification.objects.for_organization(world.org_a).filter(recipient=carla, kind="daily_digest").count() == 1


def test_the_digest_of_mentions_follows_the_email_preference(world, items, carla):
    from coaching.notifications import notification_settings_update

    notification_settings_update(
        membership=world.membership(carla), time_zone="", email_daily_digest=False, email_sessions=True,
        email_coach_weekly=True,
    )  # fmt: skip
    services.comment_create(target=_target(world, "kpi", items["kpi"]), author=world.admin_a, body="@carla look")
    now = timezone.now().replace(hour=9, minute=0) + timedelta(days=1)
    reminders_decide(now=now, organization_id=world.org_a.pk, queue_sending=False)
    digest = Notification.objects.for_organization(world.org_a).get(recipient=carla, kind="daily_digest")
    assert digest.channel == "in_app"


# --- Pages -----------------------------------------------------------------------------------------------


def test_the_kpi_page_embeds_the_thread_panel_and_the_panel_posts_with_htmx(world, items, client, carla):
    client.force_login(world.admin_a)
    kpi = items["kpi"]
    page = client.get(f"/o/acme/kpis/{kpi.pk}/").content.decode()
    assert f'hx-get="/o/acme/comments/kpi/{kpi.pk}/"' in page
    panel = client.get(f"/o/acme/comments/kpi/{kpi.pk}/", headers={"HX-Request": "true"})
    assert "No comments yet." in panel.content.decode() and "<html" not in panel.content.decode()
    posted = client.post(
        f"/o/acme/comments/kpi/{kpi.pk}/", {"body": "Hey @carla and @zoe, *why*?"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Comment posted." in posted and "<em>why</em>" in posted
    assert "Not notified: @zoe is no member of this organization" in posted
    assert 'Mentioned: <span class="mention">@Carla Coach</span>' in posted
    refused = client.post(f"/o/acme/comments/kpi/{kpi.pk}/", {"body": ""}, headers={"HX-Request": "true"})
    assert "Write something before posting: the comment is empty." in refused.content.decode()


@pytest.mark.parametrize(
    "kind,page",
    [("objective", "/o/acme/map/{unit}/"), ("initiative", "/o/acme/map/{unit}/"), ("action-item", "/o/acme/coaching/actions/{pk}/edit/")],
)  # fmt: skip
def test_the_map_and_the_action_item_page_name_their_thread(world, items, client, kind, page):
    client.force_login(world.admin_a)
    html = client.get(page.format(unit=world.company_a.pk, pk=items[kind].pk)).content.decode()
    if kind == "action-item":
        assert f'hx-get="/o/acme/comments/action-item/{items[kind].pk}/"' in html
    else:
        assert f"/o/acme/comments/{kind}/{{pk}}/" in html.replace("&quot;", '"')
    assert client.get(f"/o/acme/comments/{kind}/{items[kind].pk}/").status_code == 200


def test_only_the_author_edits_and_the_author_or_an_admin_deletes(world, items, client):
    executive = factories.add_member(world.org_a, Role.EXECUTIVE).user
    kpi = items["kpi"]
    comment = services.comment_create(target=_target(world, "kpi", kpi), author=executive, body="Mine").comment
    client.force_login(world.admin_a)
    assert client.post(f"/o/acme/comments/{comment.pk}/edit/", {"body": "Theirs"}).status_code == 403
    assert client.post(f"/o/acme/comments/{comment.pk}/delete/").status_code == 302  # an admin may delete
    comment.refresh_from_db()
    assert comment.is_deleted and comment.deleted_by == world.admin_a


def test_a_viewer_reads_the_thread_but_may_not_post(world, items, client):
    client.force_login(world.viewer_a)
    kpi = items["kpi"]
    assert "Your role reads comments" in client.get(f"/o/acme/comments/kpi/{kpi.pk}/").content.decode()
    assert client.post(f"/o/acme/comments/kpi/{kpi.pk}/", {"body": "Hi"}).status_code == 403


def test_another_organizations_kpi_is_a_404_for_its_thread(world, items, client):
    client.force_login(world.admin_a)
    foreign = items["foreign"].pk
    assert client.get(f"/o/acme/comments/kpi/{foreign}/").status_code == 404
    assert client.post(f"/o/acme/comments/kpi/{foreign}/", {"body": "Hi"}).status_code == 404
    assert client.get(f"/o/globex/comments/kpi/{foreign}/").status_code == 404
    with organization_scope(world.org_b):
        assert Comment.objects.count() == 0


# --- API -------------------------------------------------------------------------------------------------


def test_the_api_lists_posts_edits_and_deletes_comments(world, items, client, carla):
    client.force_login(world.admin_a)
    url = f"/api/v1/o/acme/comments/kpi/{items['kpi'].pk}/"
    created = client.post(url, {"body": "Ping @carla <script>x</script>"}, content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["kind"] == "kpi" and data["target"] == items["kpi"].pk and data["not_notified"] == []
    assert [m["email"] for m in data["mentions"]] == ["carla@acme.example.com"] and "<script" not in data["html"]
    reply = client.post(url, {"body": "Reply", "parent": data["id"]}, content_type="application/json").json()
    assert reply["parent"] == data["id"]
    listed = client.get(url).json()
    assert [c["body"] for c in listed["results"]] == ["Ping @carla <script>x</script>", "Reply"]
    edited = client.patch(
        f"/api/v1/o/acme/comments/{data['id']}/", {"body": "Ping @carla"}, content_type="application/json"
    )
    assert edited.status_code == 200 and edited.json()["edited_at"]
    assert len(_notifications(world, carla)) == 1
    assert client.delete(f"/api/v1/o/acme/comments/{data['id']}/").status_code == 204
    after = client.get(f"/api/v1/o/acme/comments/{data['id']}/").json()
    assert after["deleted"] is True and after["body"] == "" and after["html"] == ""


def test_the_api_answers_bad_input_with_a_clear_400(world, items, client):
    client.force_login(world.admin_a)
    url = f"/api/v1/o/acme/comments/kpi/{items['kpi'].pk}/"
    empty = client.post(url, {"body": " "}, content_type="application/json")
    assert empty.status_code == 400 and empty.json() == {
        "body": ["Write something before posting: the comment is empty."]
    }
    long = client.post(url, {"body": "y" * 4001}, content_type="application/json")
    assert long.status_code == 400 and "at most 4,000 characters" in long.json()["body"][0]
    unknown_parent = client.post(url, {"body": "Hi", "parent": 99999999}, content_type="application/json")
    assert unknown_parent.status_code == 400 and unknown_parent.json() == {
        "parent": ["No such comment in this organization."]
    }
    assert client.get("/api/v1/o/acme/comments/measurement/1/").status_code == 404


def test_the_api_refuses_another_organizations_kpi_and_a_viewers_post(world, items, client):
    client.force_login(world.admin_a)
    foreign = items["foreign"].pk
    assert client.get(f"/api/v1/o/acme/comments/kpi/{foreign}/").status_code == 404
    assert (
        client.post(
            f"/api/v1/o/acme/comments/kpi/{foreign}/", {"body": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    with organization_scope(world.org_b):
        b_comment = services.comment_create(
            target=target_get(membership=world.membership(world.member_b, world.org_b), kind="kpi", pk=foreign),
            author=world.member_b, body="Globex only",
        ).comment  # fmt: skip
    for method in ("get", "patch", "delete"):
        answer = getattr(client, method)(f"/api/v1/o/acme/comments/{b_comment.pk}/", content_type="application/json")
        assert answer.status_code == 404
    client.force_login(world.viewer_a)
    refused = client.post(
        f"/api/v1/o/acme/comments/kpi/{items['kpi'].pk}/", {"body": "x"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Your role (viewer) does not allow this: write comments."}


def test_opening_the_thread_marks_the_readers_mentions_in_it_read(world, items, client, carla):
    services.comment_create(target=_target(world, "kpi", items["kpi"]), author=world.admin_a, body="@carla look")
    services.comment_create(target=_target(world, "objective", items["objective"]), author=world.admin_a, body="@carla")
    client.force_login(carla)
    client.get(f"/o/acme/comments/kpi/{items['kpi'].pk}/", headers={"HX-Request": "true"})
    unread = Notification.objects.for_organization(world.org_a).filter(recipient=carla, read_at__isnull=True)
    assert [n.subject for n in unread] == ["Admin of acme mentioned you in a comment on objective “Delight customers”"]

"""The tenancy walk (tests/integration/test_tenancy.py for the pages, test_tenancy_api.py for the API): every URL
of the URL conf, generated from it, asked by organization A's admin for organization B's objects, must answer
404 (or 405) and never show B's data. Split in two modules so the two halves run on two pytest-xdist workers."""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from bsc.models import Role
from bsc.tenancy import organization_scope
from tests import factories

# Patterns that are not organization data: listed with the reason, everything else is walked.
NOT_ORGANIZATION_DATA = {
    "django-admin": "Django's own admin (staff only, not part of the product)",
    "invitation_accept": "keyed by a secret token, not an id (tested in test_accounts)",
    "password_reset_confirm": "keyed by a signed token",
    "api_schema": "the schema has no organization data",
    "api_docs": "the docs have no organization data",
    "api_redoc": "the docs have no organization data",
}


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin" or str(entry.pattern).startswith("django-admin"):
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield namespace + (entry.name or ""), prefix + str(entry.pattern), entry


def _kwarg_names(route: str, pattern: URLPattern, prefix_kwargs: set[str]) -> set[str]:
    names = set(pattern.pattern.regex.groupindex)
    import re

    names |= set(re.findall(r"<(?:\w+:)?(\w+)>", route))
    names |= set(re.findall(r"\(\?P<(\w+)>", route))
    return names | prefix_kwargs


def url_patterns():
    found = []
    for name, route, pattern in _walk(get_resolver()):
        if not name or name.split(":")[-1] in NOT_ORGANIZATION_DATA:
            continue
        kwargs = _kwarg_names(route, pattern, set())
        if "format" in kwargs:
            continue  # DRF's format-suffix twin of a pattern walked anyway
        found.append((name, tuple(sorted(kwargs))))
    return sorted(set(found))


ORG_OWNED_MODELS = [
    model
    for model in apps.get_models()
    if model._meta.app_label in {"bsc", "kpis", "coaching", "comments", "attachments"}
    and any(f.name == "organization" for f in model._meta.fields)
    and not model.__name__.endswith("Event")  # audit-history tables: read only through their KPI's selectors
]


def make_foreign_ids(world) -> list[int]:
    """Ids of organization B's objects that no object of organization A has, for every org-owned model
    (the sequences are moved far ahead before B's extra objects are created)."""
    with connection.cursor() as cursor:
        for model in ORG_OWNED_MODELS + [apps.get_model("bsc", "PersonalToken")]:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), 1000000 + COALESCE(MAX(id), 0)) FROM "
                + model._meta.db_table,
                [model._meta.db_table],
            )
    from bsc import services

    b_unit = factories.make_unit(world.org_b, "Globex Research", parent=world.unit_b)
    b_member = factories.add_member(world.org_b, Role.DEPARTMENT_HEAD, units=[b_unit])
    with organization_scope(world.org_b):
        services.invitation_create(
            organization=world.org_b, email="someone@globex.example.com", role=Role.VIEWER, invited_by=world.member_b
        )
    services.personal_token_create(user=world.member_b, name="Globex script")
    _globex_data(world, b_unit, b_member)
    ids = set()
    for model in ORG_OWNED_MODELS:
        ids |= set(model.objects.for_organization(world.org_b).filter(id__gte=1000000).values_list("id", flat=True))
    ids |= set(apps.get_model("bsc", "PersonalToken").objects.filter(user=world.member_b).values_list("id", flat=True))
    assert b_member.pk in ids
    return sorted(ids)


def _globex_data(world, b_unit, b_member):
    """Organization B's map, KPI, measurement, target, sessions (one held, with attendance), cadence, calendar
    feed, action item, notification, notification preference and review pack, so that every kind of object has an id of
    B's to ask for."""
    from datetime import date, timedelta
    from decimal import Decimal

    from django.utils import timezone

    from bsc import strategy
    from bsc.models import Perspective
    from coaching import cadences, calendar_feed
    from coaching import services as coaching
    from kpis import services as kpis

    with organization_scope(world.org_b):
        band = Perspective.objects.get(scorecard__unit=b_unit, name="Customer")
        first = strategy.objective_create(perspective=band, name="Globex goal")
        second = strategy.objective_create(perspective=band, name="Globex second goal", x=300)
        strategy.link_create(source=first, target=second)
        strategy.initiative_create(objective=first, name="Globex plan")
        kpi = kpis.kpi_create(unit=b_unit, name="Globex KPI", code="GLX", baseline=Decimal(0), objective=first)
        kpis.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=Decimal(10), by=world.member_b)
        kpis.measurement_record(kpi=kpi, period=date(2026, 3, 1), value=Decimal(5), by=world.member_b, schedule=False)
        _globex_comment_and_file(world, kpi)
        target = kpi.targets.first()
        kpis.target_recalibrate(target=target, value=Decimal(9), reason="Globex reason", by=world.member_b)
        session = coaching.session_schedule(
            unit=b_unit, coach=world.member_b, kind="check_in", scheduled_at=timezone.now() + timedelta(days=2)
        )
        coaching.action_item_create(
            organization=world.org_b, title="Globex action", owner=b_member.user, created_by=world.member_b,
            due_date=timezone.localdate() + timedelta(days=5), session=session, unit=b_unit,
        )  # fmt: skip
        held = coaching.session_schedule(
            unit=b_unit, coach=world.member_b, kind="check_in", scheduled_at=timezone.now() + timedelta(days=1),
            participants=[world.member_b, b_member.user],
        )  # fmt: skip
        coaching.session_hold(session=held, attendees=[world.member_b])
        cadences.cadence_create(
            unit=b_unit, coach=world.member_b, kind="check_in", frequency="weekly", weekday=2,
            time_of_day=timezone.now().time().replace(microsecond=0), starts_on=timezone.localdate(),
            participants=[b_member.user],
        )  # fmt: skip
        calendar_feed.calendar_feed_reset(organization=world.org_b, user=world.member_b)
        from coaching.models import Notification
        from coaching.notifications import notification_settings_update

        Notification.objects.create(
            organization=world.org_b, recipient=world.member_b, kind="daily_digest", subject="Globex digest",
            body="Globex KPI values due", dedupe_key="globex-digest", channel="email", link="/o/globex/data-entry/",
        )  # fmt: skip
        notification_settings_update(
            membership=b_member, time_zone="", email_daily_digest=False, email_sessions=True,
            email_coach_weekly=True,
        )  # fmt: skip
        from coaching.models import ReviewPack

        ReviewPack.objects.create(
            organization=world.org_b, unit=b_unit, period=date(2026, 3, 1), requested_by=world.member_b,
            status="done", pdf=b"%PDF Globex", xlsx=b"Globex", pdf_pages=1, expires_at=timezone.now() + timedelta(days=1),
        )  # fmt: skip


def _requests_for(name: str, kwarg_names: tuple[str, ...], world, foreign_ids):
    """Yield (url, what) pairs that ask organization A's admin for organization B's data."""
    int_kwargs = [k for k in kwarg_names if k not in {"org_slug"}]
    if "org_slug" in kwarg_names:
        # B's own slug, with any ids taken from B.
        for object_id in foreign_ids if int_kwargs else [None]:
            kwargs = {"org_slug": world.org_b.slug} | {k: object_id for k in int_kwargs}
            yield reverse(name, kwargs=kwargs), "organization B's slug"
        # A's slug with B's ids: the object lookups must be scoped to A.
        for object_id in foreign_ids if int_kwargs else []:
            kwargs = {"org_slug": world.org_a.slug} | {k: object_id for k in int_kwargs}
            yield reverse(name, kwargs=kwargs), "organization B's object under A's slug"
    elif int_kwargs:
        for object_id in foreign_ids:
            yield reverse(name, kwargs={k: object_id for k in int_kwargs}), "organization B's object"


def _globex_comment_and_file(world, kpi) -> None:
    """A comment on B's KPI and an evidence file on its value, so the comment and file routes are asked for them."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments import services as evidence
    from comments import services as comments
    from comments.targets import target_for

    comments.comment_create(target=target_for("kpi", kpi, slug=world.org_b.slug), author=world.member_b,
                            body="Globex comment")  # fmt: skip
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    evidence.evidence_file_add(target=kpi.measurements.get(), kind="measurement", by=world.member_b,
                               upload=SimpleUploadedFile("globex.pdf", pdf, "application/octet-stream"))  # fmt: skip


def walk(client, world, foreign_ids, *, api: bool) -> int:
    """Ask every organization-scoped URL (the API's when `api`, else the pages') for B's objects as A's admin;
    return how many requests were checked."""
    client.force_login(world.admin_a)
    checked = 0
    for name, kwarg_names in url_patterns():
        if not set(kwarg_names) - {"format"}:
            continue
        for url, what in _requests_for(name, kwarg_names, world, foreign_ids):
            if url.startswith("/api/") != api:
                continue
            for method in ("get", "post", "put", "patch", "delete"):
                response = getattr(client, method)(url, content_type="application/json")
                assert response.status_code in (404, 405), (
                    f"{method.upper()} {url} ({name}, {what}) answered {response.status_code}"
                )
                assert b"Globex" not in response.content, f"{method.upper()} {url} leaked organization B's data"
                checked += 1
            # At least the reading method must be a 404, not only "method not allowed".
            statuses = {client.get(url).status_code, client.post(url).status_code}
            assert 404 in statuses, f"{url} ({name}) never answered 404: {statuses}"
    return checked

"""Deciding and recording every reminder due for 10,000 people with 50,000 due items (40,000 missing KPI
values, 9,000 open action items due or overdue, 1,000 session-person pairs within a day) in four
organizations, on a Monday (so the weekly coach digests are decided too): one daily digest per person
(KPI values and action items in one), session reminders and coach digests built, notification rows
written, sending queued, SMTP excluded. The baseline is one `INSERT ... SELECT ... ON CONFLICT` writing a
row per due item into a scratch table with a unique key, in the same run. Then the tick runs twice more
and the duplicates are counted (must be 0)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from django.db import connection

from bsc import services
from bsc.models import Organization, OrgUnit, User
from bsc.tenancy import dangerously_unscoped
from coaching.models import Notification
from coaching.reminders import reminders_decide

NAME = "reminders"
TARGET = 10  # DESIGN.md section 9 (issue 20); 0 duplicates and a repeated tick writing 0 are checked too
USERS = 10_000
ORGANIZATIONS = [("bench-utc", "UTC"), ("bench-berlin", "Europe/Berlin"), ("bench-ny", "America/New_York"),
                 ("bench-tokyo", "Asia/Tokyo")]  # fmt: skip
TEAMS = 250  # per organization; 20 KPIs each
SESSIONS = 250  # coach + 3 participants each
ACTION_ITEMS = 9_000
ROUNDS = 3
NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # a Monday: due month February 2026, local time past 08:00 everywhere

BASELINE = """
INSERT INTO reminder_scratch (dedupe_key, user_id, organization_id, label)
SELECT 'kpi:' || k.id || ':' || p.period, k.owner_id, k.organization_id, k.code
FROM kpis_kpi k CROSS JOIN (VALUES (DATE '2026-01-01'), (DATE '2026-02-01')) AS p(period)
WHERE k.archived_at IS NULL AND k.owner_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM kpis_measurement m WHERE m.kpi_id = k.id AND m.period = p.period)
UNION ALL
SELECT 'action:' || a.id, a.owner_id, a.organization_id, a.title
FROM coaching_actionitem a WHERE a.status = 'open' AND a.due_date <= DATE '2026-03-10'
UNION ALL
SELECT 'session:' || s.id || ':' || who.user_id, who.user_id, s.organization_id, s.agenda
FROM coaching_coachingsession s
JOIN LATERAL (SELECT s.coach_id AS user_id UNION SELECT p.user_id FROM coaching_coachingsession_participants p
              WHERE p.coachingsession_id = s.id) who ON true
WHERE s.status = 'scheduled' AND s.scheduled_at > %(now)s AND s.scheduled_at <= %(now)s + interval '24 hours'
ON CONFLICT (dedupe_key) DO NOTHING
"""


def _setup() -> None:
    """Users, memberships, units, KPIs, action items and sessions, in bulk SQL."""
    admin = User.objects.create_user("bench-reminders@example.com", "bench-pass-phrase-1")
    organizations = [
        services.organization_create(slug=slug, name=f"Bench {zone}", admin=admin, time_zone=zone)
        for slug, zone in ORGANIZATIONS
    ]
    org_ids = [o.pk for o in organizations]
    with connection.cursor() as cursor:
        # Users (every tenth with a time zone of their own), each a department head of one organization.
        cursor.execute(
            """INSERT INTO bsc_user (email, full_name, password, is_active, is_staff, is_superuser, date_joined,
                                     time_zone, decimal_separator)
               SELECT 'person' || g || '@bench.example', 'Person ' || g, '!', true, false, false, now(),
                      CASE WHEN g %% 10 = 0 THEN 'Asia/Kolkata' ELSE '' END, '.'
               FROM generate_series(1, %(users)s) g""",
            {"users": USERS},
        )
        cursor.execute(
            """INSERT INTO bsc_membership (organization_id, user_id, role, created_at)
               SELECT (%(orgs)s::bigint[])[1 + (u.id %% 4)], u.id, 'department_head', now()
               FROM bsc_user u WHERE u.email LIKE '%%@bench.example'""",
            {"orgs": org_ids},
        )
        # Teams under each root unit; a unit's path is its parent's plus its id.
        cursor.execute(
            """INSERT INTO bsc_orgunit (organization_id, parent_id, name, path, depth, created_at)
               SELECT r.organization_id, r.id, 'Team ' || g, '', 1, now()
               FROM bsc_orgunit r CROSS JOIN generate_series(1, %(teams)s) g
               WHERE r.parent_id IS NULL AND r.organization_id = ANY(%(orgs)s)""",
            {"teams": TEAMS, "orgs": org_ids},
        )
        cursor.execute(
            """UPDATE bsc_orgunit t SET path = r.path || t.id || '/'
               FROM bsc_orgunit r WHERE t.parent_id = r.id AND t.path = ''"""
        )
        # Two monthly KPIs per person on their organization's teams, defined in February: January and
        # February are missing (one overdue, one due).
        cursor.execute(
            """WITH person AS (
                   SELECT m.user_id, m.organization_id,
                          row_number() OVER (PARTITION BY m.organization_id ORDER BY m.user_id) AS n
                   FROM bsc_membership m JOIN bsc_user u ON u.id = m.user_id WHERE u.email LIKE '%%@bench.example'),
               team AS (
                   SELECT id, organization_id, row_number() OVER (PARTITION BY organization_id ORDER BY id) - 1 AS n
                   FROM bsc_orgunit WHERE parent_id IS NOT NULL AND organization_id = ANY(%(orgs)s))
               INSERT INTO kpis_kpi (organization_id, unit_id, name, code, description, measurement_unit, decimals,
                                     direction, frequency, weight, owner_id, source, formula, rollup_method,
                                     time_aggregation, created_at)
               SELECT p.organization_id, t.id, 'Measure ' || p.user_id || '.' || k, 'M' || p.user_id || '_' || k, '',
                      '', 1, 'increase', 'monthly', 1, p.user_id, 'manual', '', '', 'average',
                      TIMESTAMPTZ '2026-02-10 09:00+00'
               FROM person p CROSS JOIN generate_series(1, 2) k
               JOIN team t ON t.organization_id = p.organization_id AND t.n = p.n %% %(teams)s""",
            {"orgs": org_ids, "teams": TEAMS},
        )
        # Open action items: overdue, due today and due tomorrow, on the owner's teams.
        cursor.execute(
            """INSERT INTO coaching_actionitem (organization_id, title, owner_id, unit_id, due_date, status,
                                                created_at)
               SELECT k.organization_id, 'Follow up ' || k.code, k.owner_id, k.unit_id,
                      DATE '2026-03-08' + (k.id %% 3)::int - (k.id %% 5)::int, 'open', now()
               FROM kpis_kpi k WHERE k.organization_id = ANY(%(orgs)s) AND k.code LIKE '%%\\_1'
               ORDER BY k.id LIMIT %(items)s""",
            {"orgs": org_ids, "items": ACTION_ITEMS},
        )
        # Sessions within the day: a coach and three participants each, on the coach's team.
        cursor.execute(
            """WITH coach AS (
                   SELECT m.user_id, m.organization_id, row_number() OVER (ORDER BY m.user_id) AS n
                   FROM bsc_membership m JOIN bsc_user u ON u.id = m.user_id
                   WHERE u.email LIKE '%%@bench.example' ORDER BY m.user_id LIMIT %(sessions)s)
               INSERT INTO coaching_coachingsession (organization_id, unit_id, coach_id, kind, scheduled_at,
                                                     status, agenda, notes, wins, challenges, moved, created_at)
               SELECT c.organization_id, (SELECT k.unit_id FROM kpis_kpi k WHERE k.owner_id = c.user_id LIMIT 1),
                      c.user_id, 'check_in', %(now)s + make_interval(mins => (30 + c.n * 5)::int), 'scheduled',
                      'Agenda ' || c.n, '', '', '', false, now()
               FROM coach c""",
            {"sessions": SESSIONS, "now": NOW},
        )
        cursor.execute(
            """INSERT INTO coaching_coachingsession_participants (coachingsession_id, user_id)
               SELECT s.id, m.user_id
               FROM coaching_coachingsession s
               CROSS JOIN LATERAL (SELECT m.user_id FROM bsc_membership m
                                   WHERE m.organization_id = s.organization_id AND m.user_id > s.coach_id + 1000
                                   ORDER BY m.user_id LIMIT 3) m"""
        )
        cursor.execute("ANALYZE")
        cursor.execute(
            "CREATE TABLE reminder_scratch (dedupe_key text PRIMARY KEY, user_id bigint, organization_id bigint, "
            "label text)"
        )


def _baseline() -> float:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE reminder_scratch")
        start = time.perf_counter()
        cursor.execute(BASELINE, {"now": NOW})
        return time.perf_counter() - start


def _tick() -> tuple[float, int]:
    """As the beat tick does it: one decision per organization, one after the other (sending is queued
    when each transaction commits)."""
    start = time.perf_counter()
    organization_ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    total = sum(reminders_decide(now=NOW, organization_id=pk).total for pk in organization_ids)
    return time.perf_counter() - start, total


def _duplicates() -> int:
    """Reminders beyond one per person, organization, kind and day (digests) or per session (link)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) - count(DISTINCT (recipient_id, organization_id, kind, link, created_at::date)) "
            "FROM coaching_notification"
        )
        return cursor.fetchone()[0]


def run() -> dict:
    from bsc.project.celery import app

    _setup()
    baseline_times, measured_times = [], []
    for _ in range(ROUNDS):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE coaching_notification")
        baseline_times.append(_baseline())
        seconds, written = _tick()
        measured_times.append(seconds)
    second_s, second_written = _tick()
    third_s, third_written = _tick()
    with dangerously_unscoped():
        kinds = {
            kind: Notification.objects.filter(kind=kind).count()
            for kind in ("daily_digest", "session_soon", "coach_weekly")
        }
        emails = Notification.objects.filter(channel="email", sent_at__isnull=True).count()
    app.control.purge()  # the queued send tasks: no worker runs here, and SMTP is not measured
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reminder_scratch")
        due_items = cursor.fetchone()[0]
    duplicates = _duplicates()
    assert due_items == 50_000, f"the data has {due_items} due items, not 50,000"
    assert second_written == third_written == 0 and duplicates == 0, "a repeated tick recorded a reminder again"
    return {
        "baseline_s": statistics.median(baseline_times),
        "measured_s": statistics.median(measured_times),
        "figures": {
            "people": USERS,
            "organizations": Organization.objects.count(),
            "units": OrgUnit.objects.for_organization(Organization.objects.get(slug="bench-utc")).count()
            * len(ORGANIZATIONS),
            "due_items": due_items,
            "notifications": written,
            **kinds,
            "emails_queued": emails,
            "repeat_tick_ms": round(second_s * 1000),
            "repeat_written": second_written + third_written,
            "duplicates": duplicates,
        },
    }

"""Deciding reminders: which notifications are due now, recorded exactly once.

Each rule is one set-based query, over one organization (the beat tick publishes a task per organization)
or over every organization at once: whose local time has passed the organization's reminder hour, and what
they have due. Every join carries `organization_id`, so a
digest lists only its own organization's items. The digests are rendered in Python (coaching/digests.py),
copied to a temporary table and written by one `INSERT ... SELECT ... ON CONFLICT (dedupe_key) DO NOTHING`
in the same transaction as the queries: a repeated tick, a second beat or a retried task finds the key taken
and writes nothing.
Mail is sent later by `coaching.notifications.notifications_send` (docs/reminders.md).

Local times come from Python's zoneinfo (the zones the forms validate), passed to SQL as a small table, so
PostgreSQL's own time zone list never has to know the zone.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from bsc import org_calendar
from bsc.permissions import Action, sql_roles_on_some
from coaching import digests
from coaching.models import NotificationChannel, NotificationKind

# Recipients: every active member with their time zone (their own, else the organization's), their local
# time now, and their email preferences (no preference row: everything by email).
RECIPIENTS = f"""
zone AS (
    SELECT * FROM unnest(%(zones)s::text[], %(local_times)s::timestamp[], %(offsets)s::interval[])
        AS z(name, local_now, utc_offset)
),
recipient AS (
    SELECT m.organization_id, m.user_id, m.role, u.email,
           COALESCE(NULLIF(u.full_name, ''), u.email) AS person,
           o.slug, o.name AS org_name, o.fiscal_year_start_month AS fiscal_start, o.reminder_hour,
           uz.name AS tz, uz.local_now,
           oz.utc_offset AS org_offset,
           {org_calendar.sql_due_month("oz.local_now")} AS due_month,
           COALESCE(p.email_daily_digest, true) AS email_daily_digest,
           COALESCE(p.email_sessions, true) AS email_sessions,
           COALESCE(p.email_coach_weekly, true) AS email_coach_weekly
    FROM bsc_membership m
    JOIN bsc_user u ON u.id = m.user_id AND u.is_active
    JOIN bsc_organization o ON o.id = m.organization_id
    JOIN zone oz ON oz.name = o.time_zone
    JOIN zone uz ON uz.name = COALESCE(NULLIF(u.time_zone, ''), o.time_zone)
    LEFT JOIN coaching_notificationpreference p ON p.membership_id = m.id
    WHERE %(organization_id)s::bigint IS NULL OR m.organization_id = %(organization_id)s::bigint
)
"""

STEP = org_calendar.sql_frequency_step("k.frequency")
MENTION_DAYS = 7  # a daily digest lists the unread mentions of the last week (docs/reminders.md)

# One digest per person, organization and local date: the KPI values they own that are due or overdue
# (roles that may enter values only) and their open action items due today, tomorrow or overdue, each
# aggregated per person; people with neither get none.
DAILY_DIGESTS = f"""
WITH {RECIPIENTS},
owner AS MATERIALIZED (
    SELECT r.*, r.local_now::date AS today,
           'daily-digest:' || r.user_id || ':' || r.organization_id || ':' || to_char(r.local_now, 'YYYY-MM-DD')
               AS dedupe_key
    FROM recipient r
    WHERE extract(hour FROM r.local_now) >= r.reminder_hour
      AND NOT EXISTS (
          SELECT 1 FROM coaching_notification n
          WHERE n.dedupe_key = 'daily-digest:' || r.user_id || ':' || r.organization_id || ':'
                               || to_char(r.local_now, 'YYYY-MM-DD'))
),
kpi_item AS (
    SELECT o.organization_id, o.user_id,
           json_agg(json_build_array(k.code, k.name, un.name, k.frequency,
                                     {org_calendar.sql_period_ending_in("mo.m::date", "s.step")},
                                     mo.m::date = o.due_month)
                    ORDER BY k.code, mo.m) AS items
    FROM owner o
    JOIN kpis_kpi k ON k.organization_id = o.organization_id AND k.owner_id = o.user_id
                   AND k.archived_at IS NULL AND k.source = 'manual'
    JOIN bsc_orgunit un ON un.id = k.unit_id
    CROSS JOIN LATERAL (SELECT {STEP} AS step) s
    -- the month now due and the twelve before it, from the month due when the KPI was defined
    CROSS JOIN LATERAL generate_series(
        GREATEST(o.due_month - interval '12 months',
                 date_trunc('month', k.created_at + o.org_offset) - interval '1 month'),
        o.due_month, interval '1 month') AS mo(m)
    WHERE o.role IN {sql_roles_on_some(Action.ENTER_MEASUREMENTS)}  -- the roles that may enter values
      AND {org_calendar.sql_period_ends_in("mo.m::date", "s.step", "o.fiscal_start")}
      AND NOT EXISTS (SELECT 1 FROM kpis_measurement me
                      WHERE me.kpi_id = k.id AND me.period = {org_calendar.sql_period_ending_in("mo.m::date", "s.step")})
    GROUP BY o.organization_id, o.user_id
),
action_item AS (
    SELECT o.organization_id, o.user_id,
           json_agg(json_build_array(a.title, un.name, a.due_date) ORDER BY a.due_date, a.id) AS items
    FROM owner o
    JOIN coaching_actionitem a ON a.organization_id = o.organization_id AND a.owner_id = o.user_id
                              AND a.status = 'open' AND a.due_date <= o.today + 1
    LEFT JOIN bsc_orgunit un ON un.id = a.unit_id
    GROUP BY o.organization_id, o.user_id
),
-- mentions in comments (issue 18) not yet read in the inbox, from the last MENTION_DAYS days
mention_item AS (
    SELECT o.organization_id, o.user_id,
           json_agg(json_build_array(n.subject, n.link) ORDER BY n.created_at, n.id) AS items
    FROM owner o
    JOIN coaching_notification n ON n.recipient_id = o.user_id AND n.organization_id = o.organization_id
                                AND n.kind = 'mention' AND n.read_at IS NULL
                                AND n.created_at > %(now)s - interval '{MENTION_DAYS} days'
    GROUP BY o.organization_id, o.user_id
)
SELECT o.organization_id, o.user_id, o.person, o.slug, o.org_name, o.fiscal_start, o.today, o.dedupe_key,
       o.email_daily_digest, ki.items, ai.items, mi.items
FROM owner o
LEFT JOIN kpi_item ki ON ki.organization_id = o.organization_id AND ki.user_id = o.user_id
LEFT JOIN action_item ai ON ai.organization_id = o.organization_id AND ai.user_id = o.user_id
LEFT JOIN mention_item mi ON mi.organization_id = o.organization_id AND mi.user_id = o.user_id
WHERE ki.items IS NOT NULL OR ai.items IS NOT NULL OR mi.items IS NOT NULL
"""

# Sessions within 24 hours go out on the next tick whatever the hour: a reminder for a 9:00 meeting
# arrives about a day before, as calendar programs do.
SESSION_REMINDERS = f"""
WITH {RECIPIENTS},
soon AS (
    SELECT s.* FROM coaching_coachingsession s
    WHERE s.status = 'scheduled' AND s.scheduled_at > %(now)s AND s.scheduled_at <= %(now)s + interval '24 hours'
      AND (%(organization_id)s::bigint IS NULL OR s.organization_id = %(organization_id)s::bigint)
),
person AS (
    SELECT id AS session_id, coach_id AS user_id FROM soon
    UNION
    SELECT p.coachingsession_id, p.user_id
    FROM coaching_coachingsession_participants p JOIN soon ON soon.id = p.coachingsession_id
)
SELECT r.organization_id, r.user_id, r.person, r.slug, r.org_name, r.tz,
       'session-soon:' || s.id || ':' || r.user_id AS dedupe_key, r.email_sessions,
       s.id, s.kind, un.name, s.scheduled_at, s.agenda, coach.email, COALESCE(NULLIF(coach.full_name, ''), coach.email),
       (SELECT json_agg(json_build_array(pu.email, COALESCE(NULLIF(pu.full_name, ''), pu.email)) ORDER BY pu.email)
        FROM coaching_coachingsession_participants pp JOIN bsc_user pu ON pu.id = pp.user_id
        WHERE pp.coachingsession_id = s.id)
FROM person pe
JOIN soon s ON s.id = pe.session_id
JOIN recipient r ON r.organization_id = s.organization_id AND r.user_id = pe.user_id
JOIN bsc_orgunit un ON un.id = s.unit_id
JOIN bsc_user coach ON coach.id = s.coach_id
WHERE NOT EXISTS (SELECT 1 FROM coaching_notification n WHERE n.dedupe_key = 'session-soon:' || s.id || ':' || r.user_id)
"""

# Mondays, per coach: the units of their (not cancelled) sessions, with red KPIs and missing values of the
# month now due and overdue action items. Only coaches with something to look at get one.
COACH_WEEKLIES = f"""
WITH {RECIPIENTS},
coach AS MATERIALIZED (
    SELECT r.*, r.local_now::date AS today,
           'coach-weekly:' || r.user_id || ':' || r.organization_id || ':' || to_char(r.local_now, 'IYYY-"W"IW')
               AS dedupe_key
    FROM (SELECT DISTINCT organization_id, coach_id FROM coaching_coachingsession WHERE status <> 'cancelled') sc
    JOIN recipient r ON r.organization_id = sc.organization_id AND r.user_id = sc.coach_id
    WHERE extract(isodow FROM r.local_now) = 1 AND extract(hour FROM r.local_now) >= r.reminder_hour
),
coached AS (
    SELECT DISTINCT c.organization_id, c.user_id, s.unit_id
    FROM coach c
    JOIN coaching_coachingsession s ON s.organization_id = c.organization_id AND s.coach_id = c.user_id
                                   AND s.status <> 'cancelled'
    WHERE NOT EXISTS (SELECT 1 FROM coaching_notification n WHERE n.dedupe_key = c.dedupe_key)
),
finding AS (
    SELECT cu.organization_id, cu.user_id, cu.unit_id, 'red' AS what, k.code || ' · ' || k.name AS label,
           round(sc.score * 100) || '%%' AS detail
    FROM coached cu JOIN coach c USING (organization_id, user_id)
    JOIN kpis_kpi k ON k.organization_id = cu.organization_id AND k.unit_id = cu.unit_id AND k.archived_at IS NULL
    JOIN kpis_kpiscore sc ON sc.kpi_id = k.id AND sc.period_kind = 'month' AND sc.period = c.due_month
                         AND sc.status = 'red'
    UNION ALL
    SELECT cu.organization_id, cu.user_id, cu.unit_id, 'missing', k.code || ' · ' || k.name,
           'no value' || COALESCE(' from ' || NULLIF(ow.full_name, ''), '')
    FROM coached cu JOIN coach c USING (organization_id, user_id)
    JOIN kpis_kpi k ON k.organization_id = cu.organization_id AND k.unit_id = cu.unit_id AND k.archived_at IS NULL
                   AND k.source = 'manual'
    LEFT JOIN bsc_user ow ON ow.id = k.owner_id
    CROSS JOIN LATERAL (SELECT {STEP} AS step) s
    WHERE {org_calendar.sql_period_ends_in("c.due_month", "s.step", "c.fiscal_start")}
      AND NOT EXISTS (SELECT 1 FROM kpis_measurement me WHERE me.kpi_id = k.id
                      AND me.period = {org_calendar.sql_period_ending_in("c.due_month", "s.step")})
    UNION ALL
    SELECT cu.organization_id, cu.user_id, cu.unit_id, 'overdue', a.title,
           COALESCE(NULLIF(ow.full_name, ''), ow.email) || ', due ' || to_char(a.due_date, 'FMDD Mon YYYY')
    FROM coached cu JOIN coach c USING (organization_id, user_id)
    JOIN coaching_actionitem a ON a.organization_id = cu.organization_id AND a.unit_id = cu.unit_id
                              AND a.status = 'open' AND a.due_date < c.today
    JOIN bsc_user ow ON ow.id = a.owner_id
)
SELECT c.organization_id, c.user_id, c.person, c.slug, c.org_name, c.dedupe_key, c.email_coach_weekly,
       to_char(c.local_now, 'IYYY "week" IW'), c.due_month,
       json_agg(json_build_array(un.name, f.what, f.label, f.detail) ORDER BY un.path, f.what, f.label)
FROM coach c
JOIN finding f ON f.organization_id = c.organization_id AND f.user_id = c.user_id
JOIN bsc_orgunit un ON un.id = f.unit_id
GROUP BY c.organization_id, c.user_id, c.person, c.slug, c.org_name, c.dedupe_key, c.email_coach_weekly,
         c.local_now, c.due_month
"""

# The rows to record go to a temporary table by COPY (quicker than parameters for thousands of long texts),
# then into the notifications in one statement; a key already taken is skipped.
STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS notification_staging (
    organization_id bigint, recipient_id bigint, kind text, subject text, body text, html text, ics text,
    link text, dedupe_key text, channel text
) ON COMMIT DELETE ROWS
"""
STAGING_COLUMNS = "organization_id, recipient_id, kind, subject, body, html, ics, link, dedupe_key, channel"

WORK_MEM = "64MB"  # for the tick's transaction: 10,000 digests are about 25 MB of rows to sort
RECORD = f"""
INSERT INTO coaching_notification ({STAGING_COLUMNS}, created_at, attempts, last_error)
SELECT {STAGING_COLUMNS}, %(now)s, 0, ''
FROM notification_staging
ORDER BY dedupe_key  -- two ticks at once take the keys in one order: the second waits, never deadlocks
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING kind, channel
"""


@dataclass
class Decision:
    """What one tick decided: notifications written (a key already taken is not counted)."""

    written: Counter = field(default_factory=Counter)  # by kind
    emails: int = 0

    @property
    def total(self) -> int:
        return sum(self.written.values())


@dataclass
class _Row:
    organization_id: int
    recipient_id: int
    kind: str
    dedupe_key: str
    channel: str
    rendered: digests.Rendered


def _channel(email_on: bool) -> str:
    return NotificationChannel.EMAIL if email_on else NotificationChannel.IN_APP


def _zones(cursor, now: datetime) -> dict:
    """Local wall time and UTC offset now in every zone in use, from zoneinfo."""
    cursor.execute("SELECT time_zone FROM bsc_organization UNION SELECT time_zone FROM bsc_user WHERE time_zone <> ''")
    names = [name for (name,) in cursor.fetchall()]
    local = [now.astimezone(ZoneInfo(name)) for name in names]
    return {
        "zones": names,
        "local_times": [moment.replace(tzinfo=None) for moment in local],
        "offsets": [moment.utcoffset() for moment in local],
    }


# Each rule runs its query when called and returns its rows to render lazily: the rendering happens while
# the rows are copied to PostgreSQL (_record), which stores each batch as Python renders the next.


def _daily_digests(cursor, params) -> Iterator[_Row]:
    cursor.execute(DAILY_DIGESTS, params)
    return _daily_digests_render(cursor.fetchall())


def _daily_digests_render(fetched) -> Iterator[_Row]:
    for (
        org_id, user_id, person, slug, org_name, fiscal_start, today, key, email_on, kpis, actions, mentions,
    ) in fetched:  # fmt: skip
        rendered = digests.daily_digest(
            person=person, org_name=org_name, slug=slug, fiscal_start=fiscal_start, today=today,
            kpi_items=[
                digests.KpiItem(code, name, unit, frequency, date.fromisoformat(period), is_due)
                for code, name, unit, frequency, period, is_due in kpis or ()
            ],
            action_items=[
                digests.ActionItemLine(title, unit, date.fromisoformat(due)) for title, unit, due in actions or ()
            ],
            mentions=[digests.MentionLine(subject, link) for subject, link in mentions or ()],
        )  # fmt: skip
        yield _Row(org_id, user_id, NotificationKind.DAILY_DIGEST, key, _channel(email_on), rendered)


def _session_reminders(cursor, params) -> Iterator[_Row]:
    cursor.execute(SESSION_REMINDERS, params)
    return _session_reminders_render(cursor.fetchall(), stamp=params["now"])


def _session_reminders_render(fetched, *, stamp: datetime) -> Iterator[_Row]:
    invites: dict[int, str] = {}  # one invite per session, whoever it goes to
    for (
        org_id, user_id, person, slug, org_name, tz, key, email_on,
        session_id, kind, unit, scheduled_at, agenda, coach_email, coach_name, participants,
    ) in fetched:  # fmt: skip
        session = digests.SessionInfo(
            id=session_id, kind=kind, unit=unit, scheduled_at=scheduled_at, agenda=agenda,
            coach=(coach_email, coach_name), participants=[tuple(p) for p in participants or []],
        )  # fmt: skip
        if session_id not in invites:
            link = digests.absolute(digests.session_link(slug, session_id))
            invites[session_id] = digests.session_invite(session=session, link=link, stamp=stamp)
        rendered = digests.session_reminder(
            person=person, time_zone=tz, org_name=org_name, slug=slug, session=session, ics=invites[session_id]
        )
        yield _Row(org_id, user_id, NotificationKind.SESSION_SOON, key, _channel(email_on), rendered)


def _coach_weeklies(cursor, params) -> Iterator[_Row]:
    cursor.execute(COACH_WEEKLIES, params)
    return _coach_weeklies_render(cursor.fetchall())


def _coach_weeklies_render(fetched) -> Iterator[_Row]:
    for org_id, user_id, person, slug, org_name, key, email_on, week, due_month, findings in fetched:
        rendered = digests.coach_weekly(
            person=person, org_name=org_name, slug=slug, week=week, due_month=due_month,
            findings=[digests.Finding(*finding) for finding in findings],
        )  # fmt: skip
        yield _Row(org_id, user_id, NotificationKind.COACH_WEEKLY, key, _channel(email_on), rendered)


RULES = (_daily_digests, _session_reminders, _coach_weeklies)


def _record(cursor, rows: Iterator[_Row], now: datetime) -> list[tuple[str, str]]:
    first = next(rows, None)
    if first is None:
        return []
    cursor.execute(STAGING)
    cursor.execute("TRUNCATE notification_staging")  # within an enclosing transaction it may hold older rows
    with cursor.cursor.copy(f"COPY notification_staging ({STAGING_COLUMNS}) FROM STDIN") as copy:
        for r in itertools.chain([first], rows):  # rendered one by one, sent to the server in batches
            rendered = r.rendered
            copy.write_row((
                r.organization_id, r.recipient_id, str(r.kind), rendered.subject[:255], rendered.body, rendered.html,
                rendered.ics, rendered.link, r.dedupe_key, str(r.channel),
            ))  # fmt: skip
    cursor.execute(RECORD, {"now": now})
    return cursor.fetchall()


def reminders_decide(
    *, now: datetime | None = None, organization_id: int | None = None, queue_sending: bool = True
) -> Decision:
    """Write every reminder due at `now` that was not written before (in one organization, or in all when
    `organization_id` is None), and queue the sending of the new mails once the transaction has committed."""
    now = now or timezone.now()
    decision = Decision()
    with transaction.atomic(), connection.cursor() as cursor:
        # RECORD sorts whole rendered rows (about 2 kB each) by key: in memory, not in temporary files
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        params = {"now": now, "organization_id": organization_id, **_zones(cursor, now)}
        decided = [rule(cursor, params) for rule in RULES]  # the queries, before the COPY takes the connection
        for kind, channel in _record(cursor, itertools.chain(*decided), now):
            decision.written[kind] += 1
            decision.emails += channel == NotificationChannel.EMAIL
        if decision.emails and queue_sending:
            from coaching.tasks import notifications_send

            transaction.on_commit(notifications_send.delay)
    return decision

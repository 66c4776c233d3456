"""Seed the demo organization: a manufacturing company with divisions, departments, one user per persona,
a strategy map cascaded to the divisions and a department, KPIs with two years of values and roll-ups, and
a year of coaching (cadences, held sessions with notes and KPI snapshots, action items done on time, late or
still open). Each part is added only when missing, so running it again changes nothing."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import OuterRef, Subquery

from bsc import org_calendar, services, strategy
from bsc.models import Membership, Objective, Organization, OrgUnit, Perspective, Role, Scorecard, User
from bsc.org_calendar import month_shift
from bsc.project.demo import (
    DEMO_ACTIONS,
    DEMO_ALIGNED_UNITS,
    DEMO_CADENCES,
    DEMO_CAUSES,
    DEMO_CAUSES_OTHER,
    DEMO_CHALLENGES,
    DEMO_COACHING_MONTHS,
    DEMO_COMMENTS,
    DEMO_COMPANY_LINKS,
    DEMO_COMPANY_OBJECTIVES,
    DEMO_COUNT_UNITS,
    DEMO_EVIDENCE,
    DEMO_INITIATIVES,
    DEMO_KPI_ALIGNMENT,
    DEMO_KPIS,
    DEMO_LATE_SHARE,
    DEMO_LINKED,
    DEMO_LINKED_SWING,
    DEMO_MISSING,
    DEMO_MONTHS,
    DEMO_NOTE_TOPICS,
    DEMO_PASSWORD,
    DEMO_RECALIBRATIONS,
    DEMO_ROLLUPS,
    DEMO_SLIPPING,
    DEMO_SLUG,
    DEMO_TIME_AGGREGATION,
    DEMO_TREE,
    DEMO_UNIT_OBJECTIVES,
    DEMO_UNIT_TRENDS,
    DEMO_USERS,
    DEMO_WINS,
)
from bsc.tenancy import organization_scope


class Command(BaseCommand):
    help = "Create the demo organization, its unit tree and one user per persona (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=DEMO_SLUG).first()
        if organization is None:
            organization = self.seed_organization()
        else:
            self.stdout.write("Demo organization already present.")
        with organization_scope(organization):
            self.seed_strategy_maps(organization)
            self.seed_kpis(organization)
            self.seed_coaching(organization)
            self.seed_link_evidence(organization)
            self.seed_review_pack(organization)
            self.seed_comments(organization)
        # The evidence file's service writes its own transaction (the file and its row both or neither): after this one.
        transaction.on_commit(lambda: self.seed_evidence(organization))

    def seed_organization(self) -> Organization:
        users = {}
        for _, email, full_name, _, _ in DEMO_USERS:
            users[email] = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
        admin = users[DEMO_USERS[0][1]]
        organization = services.organization_create(
            slug=DEMO_SLUG,
            name="Northwind Manufacturing",
            admin=admin,
            time_zone="Europe/Berlin",
        )
        with organization_scope(organization):
            company = OrgUnit.objects.get(parent__isnull=True)
            for _, email, *_ in DEMO_USERS[1:]:
                services.membership_add(organization=organization, user=users[email], role=Role.VIEWER)
            units = {}
            for division, departments in DEMO_TREE.items():
                units[division] = services.org_unit_create(organization=organization, name=division, parent=company)
                for department in departments:
                    units[department] = services.org_unit_create(
                        organization=organization, name=department, parent=units[division]
                    )
            services.org_unit_update(unit=company, head=users["ceo@northwind.example"])
            services.org_unit_update(unit=units["Operations"], head=users["ops.head@northwind.example"])
            for _, email, _, role, scoped in DEMO_USERS[1:]:
                membership = organization.memberships.get(user=users[email])
                services.membership_update(membership=membership, role=role, units=[units[n] for n in scoped])
        self.stdout.write(self.style.SUCCESS(f"Demo organization “{organization.name}” created."))
        return organization

    def seed_strategy_maps(self, organization: Organization) -> None:
        company = OrgUnit.objects.get(parent__isnull=True)
        scorecard = Scorecard.objects.get(unit=company)
        if scorecard.objectives.exists():
            self.stdout.write("Demo strategy maps already present.")
            return
        bands = {p.name: p for p in Perspective.objects.filter(scorecard=scorecard)}
        users = {u.email: u for u in User.objects.filter(memberships__organization=organization)}
        objectives = {}
        for band, name, x, y in DEMO_COMPANY_OBJECTIVES:
            objectives[name] = strategy.objective_create(
                perspective=bands[band], name=name, x=x, y=y, owner=users["ceo@northwind.example"]
            )
        for source, target in DEMO_COMPANY_LINKS:
            strategy.link_create(source=objectives[source], target=objectives[target])
        for objective, name, owner, status, progress in DEMO_INITIATIVES:
            strategy.initiative_create(
                objective=objectives[objective],
                name=name,
                owner=users[owner],
                status=status,
                progress=progress,
                start=date(2026, 1, 1),
                end=date(2026, 12, 31),
            )
        for unit_name in DEMO_ALIGNED_UNITS:
            unit = OrgUnit.objects.get(name=unit_name)
            strategy.scorecard_copy_parent_structure(scorecard=Scorecard.objects.get(unit=unit))
        # Each unit keeps only the objectives it serves (Assembly: the operational ones).
        for unit_name, kept in DEMO_ALIGNED_UNITS.items():
            if kept is not None:
                Objective.objects.filter(scorecard__unit__name=unit_name).exclude(perspective__name__in=kept).delete()
        self.stdout.write(self.style.SUCCESS("Demo strategy maps created."))

    def seed_kpis(self, organization: Organization) -> None:
        from bsc.org_calendar import due_month
        from kpis import services as kpi_services
        from kpis.models import Kpi, Target
        from kpis.outbox import scores_rebuild

        if Kpi.objects.exists():
            self.stdout.write("Demo KPIs already present.")
            return
        rng = random.Random(2026)
        last = due_month(organization)
        months = [month_shift(last, -i) for i in range(DEMO_MONTHS - 1, -1, -1)]
        units = {u.name: u for u in OrgUnit.objects.all()}
        users = {u.email: u for u in User.objects.filter(memberships__organization=organization)}
        ceo, ops = users["ceo@northwind.example"], users["ops.head@northwind.example"]
        admin = users[DEMO_USERS[0][1]]
        ops_units = {u.pk for u in OrgUnit.objects.filter(path__startswith=units["Operations"].path)}
        unit_objectives = {}
        for unit_name, band, name, aligned_name in DEMO_UNIT_OBJECTIVES:
            unit = units[unit_name]
            aligned = Objective.objects.filter(scorecard__unit_id=unit.parent_id, name=aligned_name).first()
            unit_objectives.setdefault(unit_name, strategy.objective_create(
                perspective=Perspective.objects.get(scorecard__unit=unit, name=band), name=name, x=30, y=50,
                aligned_to=aligned,
            ))  # fmt: skip

        def served(unit_name, objective_name):
            if objective_name is None:
                return unit_objectives.get(unit_name)
            return Objective.objects.filter(scorecard__unit=units[unit_name], name=objective_name).first()

        def set_targets(kpi, b: Decimal, end: Decimal):
            for fiscal_year, share in ((months[0].year, "0.3"), (months[0].year + 1, "0.7"), (months[0].year + 2, "1")):
                value = (b + (end - b) * Decimal(share)).quantize(Decimal("0.1"))
                kpi_services.target_set_year(kpi=kpi, fiscal_year=fiscal_year, mode="same", value=value, by=admin)

        # Roll-ups first (parents before children), their baseline and year-end the sums of their children's.
        ranges = {code: (Decimal(str(b)), Decimal(str(end))) for _, _, code, _, _, _, b, end, _ in DEMO_KPIS}
        for *_, code, _, _, _, _ in reversed(DEMO_ROLLUPS):
            children = [c for c, parent in DEMO_KPI_ALIGNMENT.items() if parent == code]
            ranges[code] = (sum(ranges[c][0] for c in children), sum(ranges[c][1] for c in children))
        kpis = {}
        for unit_name, objective_name, code, name, label, direction, method in DEMO_ROLLUPS:
            unit = units[unit_name]
            kpis[code] = kpi_services.kpi_create(
                unit=unit, name=name, code=code, measurement_unit=label, direction=direction, source="rollup",
                rollup_method=method, baseline=ranges[code][0], objective=served(unit_name, objective_name),
                aligned_to=kpis.get(DEMO_KPI_ALIGNMENT.get(code)), owner=ops if unit.pk in ops_units else ceo,
                time_aggregation=DEMO_TIME_AGGREGATION.get(code, "average"),
                decimals=0 if label in DEMO_COUNT_UNITS else 1,
            )  # fmt: skip
            set_targets(kpis[code], *ranges[code])
        trend_from = len(months) - 12  # the improving and the sliding department move over the last 12 months
        swing = self._linked_swing(len(months))
        for unit_name, objective_name, code, name, label, direction, baseline, year_end, performance in DEMO_KPIS:
            unit = units[unit_name]
            whole = label in DEMO_COUNT_UNITS
            kpi = kpi_services.kpi_create(
                unit=unit, name=name, code=code, measurement_unit=label, direction=direction,
                baseline=Decimal(str(baseline)), objective=served(unit_name, objective_name),
                aligned_to=kpis.get(DEMO_KPI_ALIGNMENT.get(code)), owner=ops if unit.pk in ops_units else ceo,
                time_aggregation=DEMO_TIME_AGGREGATION.get(code, "average"), decimals=0 if whole else 1,
            )  # fmt: skip
            kpis[code] = kpi
            b = Decimal(str(baseline))
            set_targets(kpi, b, Decimal(str(year_end)))
            targets = {t.period: t.value for t in Target.objects.filter(kpi=kpi)}
            missing, reason = DEMO_MISSING.get(code, (0, ""))
            trend = DEMO_UNIT_TRENDS.get(unit_name, 0) - DEMO_SLIPPING.get(code, 0)
            linked = self._linked_lag(kpi.objective)
            for index, month in enumerate(months[: len(months) - missing]):
                # the trend ends at the KPI's performance in the latest month
                moved = trend * (min(max(index, trend_from), len(months) - 1) - (len(months) - 1))
                if linked is not None:
                    moved -= swing[index - linked] if index >= linked else 0
                drift = Decimal(str(performance + rng.uniform(-0.06, 0.06) + moved))
                actual = (b + (targets[month] - b) * drift).quantize(Decimal("1") if whole else Decimal("0.1"))
                recent = index >= len(months) - missing - 2  # the months the review discusses: their own story
                cause = (recent and DEMO_CAUSES.get(code)) or DEMO_CAUSES_OTHER[index % len(DEMO_CAUSES_OTHER)]
                comment = cause if drift < Decimal("0.6") else ""
                if missing and index == len(months) - missing - 1:
                    comment = reason
                kpi_services.measurement_record(
                    kpi=kpi, period=month, value=actual, comment=comment, by=ops if unit.pk in ops_units else ceo,
                    schedule=False,
                )  # fmt: skip
        for code, offset, factor, reason in DEMO_RECALIBRATIONS:
            target = Target.objects.get(kpi__code=code, period=months[offset])
            kpi_services.target_recalibrate(
                target=target, value=(target.value * Decimal(factor)).quantize(Decimal("0.1")), reason=reason, by=admin
            )
        self._prune_maps(units)
        # Objectives copied down the units, or made for a department, are owned like the unit's KPIs.
        for objective in Objective.objects.filter(owner__isnull=True).select_related("scorecard"):
            strategy.objective_update(
                objective=objective, owner=ops if objective.scorecard.unit_id in ops_units else ceo
            )
        self._backdate_entries(organization, months, rng)
        # Every score now, months ahead with targets included (the forecasts read their targets), clearing the
        # recompute requests the values above noted: no page waits for a worker to take them ("Recomputing…").
        scores_rebuild(organization=organization)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo KPIs created: {len(DEMO_KPIS)} KPIs and {len(DEMO_ROLLUPS)} roll-ups, {len(months)} months."
            )
        )

    @staticmethod
    def _linked_swing(count: int) -> list[float]:
        """The monthly swing of the link the demo's data bears out (DEMO_LINKED), none in its last two months."""
        dice = random.Random(2029)
        return [dice.uniform(0, DEMO_LINKED_SWING) if index < count - 2 else 0.0 for index in range(count)]

    @staticmethod
    def _linked_lag(objective) -> int | None:
        """0 for a KPI serving the demo's linked cause (or an objective aligned to it, at any depth), its lag for one
        serving the effect, None otherwise."""
        cause, effect, lag = DEMO_LINKED
        while objective is not None and objective.aligned_to_id is not None:
            objective = objective.aligned_to
        name = objective.name if objective is not None else None
        return 0 if name == cause else lag if name == effect else None

    @staticmethod
    def _prune_maps(units: dict) -> None:
        """Below the company, a unit keeps the objectives that are scored (by KPIs of its own or by sub-units'
        objectives aligned to them) and the perspectives that keep an objective: its score then rests on data,
        not on empty boxes copied from its parent's map. Deepest units first."""
        for unit in sorted(units.values(), key=lambda u: -u.depth):
            if unit.depth == 0:
                continue
            Objective.objects.filter(scorecard__unit=unit, kpis__isnull=True, aligned_from__isnull=True).delete()
            Perspective.objects.filter(scorecard__unit=unit, objectives__isnull=True).delete()

    @staticmethod
    def _backdate_entries(organization: Organization, months: list[date], rng: random.Random) -> None:
        """Date the KPIs and their values as if the demo had been kept for two years: KPIs defined the month
        before the first value, each value entered early in the month after its period (after the data-entry
        deadline now and then, and more and more often in the sliding department), the audit history alike.
        Dates come from the organization's calendar, never from the machine's date; nothing is in the future."""
        import pgtrigger

        from kpis.models import Kpi, Measurement

        now = org_calendar.now()
        Kpi.objects.filter(organization=organization).update(
            created_at=org_calendar.local_midnight(month_shift(months[0], -1), organization)
        )
        deadline_day = organization.data_entry_day
        sliding = {u for u, trend in DEMO_UNIT_TRENDS.items() if trend < 0}
        measurements = list(Measurement.objects.filter(organization=organization).select_related("kpi__unit"))
        for m in sorted(measurements, key=lambda m: (m.kpi.code, m.period)):
            late_share = DEMO_LATE_SHARE
            if m.kpi.unit.name in sliding:
                late_share += 0.5 * max(0, months.index(m.period) - (len(months) - 12)) / 12
            if rng.random() < late_share:
                day = rng.randint(deadline_day + 1, deadline_day + 12)
            else:
                day = rng.randint(1, max(1, deadline_day - 1))
            opened = org_calendar.local_midnight(month_shift(m.period, 1), organization)
            at = opened + timedelta(days=day - 1, hours=rng.randint(8, 17), minutes=rng.randint(0, 59))
            m.entered_at = min(at, now - timedelta(minutes=5))
        # The audit trigger would record the re-dating as a change: the history is re-dated with the values.
        with pgtrigger.ignore("kpis.Measurement:update_update"):
            Measurement.objects.bulk_update(measurements, ["entered_at"], batch_size=500)
        event = Measurement.pgh_event_model
        entered = Measurement.objects.filter(pk=OuterRef("pgh_obj_id")).values("entered_at")[:1]
        event.objects.filter(organization=organization).update(
            entered_at=Subquery(entered), pgh_created_at=Subquery(entered)
        )

    def seed_review_pack(self, organization: Organization) -> None:
        """The month before the one now due, reviewed and closed for the whole company (its values, targets and scores
        locked as reviewed), and the company's review pack for it, made here rather than by a worker, so the Review
        packs page has one to download."""
        from coaching import review_packs
        from coaching.models import ReviewPack
        from kpis.models import PeriodClose
        from kpis.period_close import period_close

        admin = Membership.objects.filter(role=Role.ADMIN).select_related("user").first().user
        company = OrgUnit.objects.get(parent__isnull=True)
        closed = org_calendar.month_shift(org_calendar.due_month(organization), -1)
        if not PeriodClose.objects.filter(unit=company, month=closed).exists():
            period_close(unit=company, month=closed, by=admin)
        if ReviewPack.objects.exists():
            return
        asked = review_packs.review_pack_request(
            organization=organization, unit=company, kind=org_calendar.MONTH, period=closed, by=admin, publish=False
        )
        pack = review_packs.review_pack_build(organization=organization, pack_id=asked.pack.pk)
        self.stdout.write(
            f"{org_calendar.month_label(closed)} closed; review pack of {company.name}: {pack.status} "
            f"({pack.pdf_pages} pages)."
        )

    def seed_coaching(self, organization: Organization) -> None:
        """Three cadences started a year ago: their upcoming sessions come from the cadence service, the past
        ones (held, a few cancelled) with notes, KPI snapshots and action items are written in bulk."""
        from coaching import cadences
        from coaching.models import (
            ActionItem,
            Cadence,
            CoachingSession,
            SessionAttendance,
            SessionKpiSnapshot,
            SessionStatus,
        )
        from kpis.models import Kpi, KpiScore

        if Cadence.objects.exists():
            self.stdout.write("Demo coaching already present.")
            return
        rng = random.Random(2027)
        tz = org_calendar.zone(organization)
        now = org_calendar.now()
        today = org_calendar.today(organization, now)
        start = month_shift(today.replace(day=1), -DEMO_COACHING_MONTHS)
        units = {u.name: u for u in OrgUnit.objects.all()}
        users = {u.email: u for u in User.objects.filter(memberships__organization=organization)}
        coach, head, ceo = (users[e] for e in ("coach@northwind.example", "ops.head@northwind.example",
                                                "ceo@northwind.example"))  # fmt: skip
        kpis = list(Kpi.objects.filter(unit__in=[units[c[0]] for c in DEMO_CADENCES], archived_at__isnull=True))
        scores = {
            (s.kpi_id, s.period): s
            for s in KpiScore.objects.filter(kpi__in=kpis, period_kind="month", period__gte=month_shift(start, -1))
        }
        sessions: list[CoachingSession] = []
        participants: dict[int, list] = {}
        for unit_name, kind, frequency, weekday, week, at, emails, agenda in DEMO_CADENCES:
            cadence = cadences.cadence_create(
                unit=units[unit_name], coach=coach, kind=kind, frequency=frequency, weekday=weekday,
                week_of_month=week, time_of_day=time.fromisoformat(at), starts_on=start,
                participants=[users[e] for e in emails], agenda=agenda, created_by=coach,
            )  # fmt: skip
            for day in cadences.occurrence_dates(cadence, start, today):
                when = cadences.occurrence_time(cadence, day, tz)
                if when >= now:
                    continue
                session = CoachingSession(
                    organization=organization, unit=cadence.unit, coach=coach, kind=kind, scheduled_at=when,
                    agenda=agenda, cadence=cadence, occurrence=day,
                )  # fmt: skip
                if kind != "monthly_review" and rng.random() < 0.1:
                    session.status = SessionStatus.CANCELLED
                else:
                    session.status, session.held_at = SessionStatus.HELD, when + timedelta(minutes=55)
                sessions.append(session)
                participants[id(session)] = [users[e] for e in emails]
        unit_kpis: dict[int, list] = {}
        for kpi in kpis:
            unit_kpis.setdefault(kpi.unit_id, []).append(kpi)
        snapshots, items = [], []
        for session in sessions:
            if session.status != SessionStatus.HELD:
                continue
            period = month_shift(session.occurrence.replace(day=1), -1)
            discussed = [(kpi, scores.get((kpi.pk, period))) for kpi in unit_kpis.get(session.unit_id, [])]
            # worst first: the session's actions follow the reddest KPIs
            red = [kpi for kpi, score in sorted(
                ((k, s) for k, s in discussed if s is not None and s.status == "red"), key=lambda pair: pair[1].score
            )]  # fmt: skip
            self._write_notes(session, rng, red)
            snapshots += [
                SessionKpiSnapshot(
                    organization=organization,
                    session=session,
                    kpi=kpi,
                    period=period,
                    actual=score.actual if score else None,
                    target=score.target if score else None,
                    score=score.score if score else None,
                    status=score.status if score else "grey",
                )  # fmt: skip
                for kpi, score in discussed
            ]
            count = {"monthly_review": 3, "workshop": 2}.get(session.kind, 1)
            for index in range(count):
                items.append(self._demo_item(session, rng, today, tz, now, owners=(head, head, head, coach, ceo),
                                             kpi=red[index] if index < len(red) else None))  # fmt: skip
        # Whatever the dice said, the department head has a few overdue items to chase.
        late = sorted((i for i in items if i.due_date < today and i.owner == head), key=lambda i: i.due_date)[-3:]
        for item in late:
            item.status, item.completed_at = "open", None
        # The actions the latest held session of each unit agreed on its red KPIs are still being worked on: the
        # dashboard's red objectives show open actions and the session that last discussed them.
        latest: dict[int, CoachingSession] = {}
        for session in sessions:
            current = latest.get(session.unit_id)
            if session.status == SessionStatus.HELD and (
                current is None or session.scheduled_at > current.scheduled_at
            ):
                latest[session.unit_id] = session
        for item in items:
            if item.kpi is not None and item.session is latest.get(item.unit_id):
                item.status, item.completed_at = "open", None
        self._distinct_titles(items)
        CoachingSession.objects.bulk_create(sessions)
        through = CoachingSession.participants.through
        through.objects.bulk_create(
            [through(coachingsession_id=s.pk, user_id=u.pk) for s in sessions for u in participants[id(s)]]
        )
        # Attendance taken at every held session: now and then someone is away.
        SessionAttendance.objects.bulk_create(
            SessionAttendance(organization=organization, session=s, user=u, attended=rng.random() < 0.85)
            for s in sessions
            if s.status == SessionStatus.HELD
            for u in participants[id(s)]
        )
        for snapshot in snapshots:
            snapshot.session_id = snapshot.session.pk
        SessionKpiSnapshot.objects.bulk_create(snapshots)
        for item in items:
            item.session_id = item.session.pk
        ActionItem.objects.bulk_create(items)
        # auto_now_add stamped today: date them as of the sessions they came from.
        from django.db.models import F

        past = CoachingSession.objects.filter(pk__in=[s.pk for s in sessions])
        past.update(created_at=F("scheduled_at") - timedelta(days=28))
        held_at = CoachingSession.objects.filter(pk=OuterRef("session_id")).values("held_at")[:1]
        ActionItem.objects.filter(pk__in=[i.pk for i in items]).update(created_at=Subquery(held_at))
        upcoming = CoachingSession.objects.filter(status="scheduled").count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo coaching created: {len(DEMO_CADENCES)} cadences, {len(sessions)} past and {upcoming} "
                f"upcoming sessions, {len(items)} action items."
            )
        )

    def seed_link_evidence(self, organization: Organization) -> None:
        """The evidence of the map's cause-effect links, as the worker computes it after scores change (the seed
        stored the scores itself)."""
        from kpis.link_evidence import link_evidence_refresh
        from kpis.models import LinkEvidence

        if LinkEvidence.objects.exists():
            return
        count = link_evidence_refresh(organization=organization)
        self.stdout.write(self.style.SUCCESS(f"Demo link evidence computed: {count} links."))

    def seed_comments(self, organization: Organization) -> None:
        """A few comments with @mentions and replies on a red KPI and an objective (DEMO_COMMENTS)."""
        from comments.models import Comment
        from comments.services import comment_create
        from comments.targets import target_for
        from kpis.models import Kpi

        if Comment.objects.exists():
            return
        people = {user.email: user for user in User.objects.filter(memberships__organization=organization)}
        for kind, name, author, text, replies in DEMO_COMMENTS:
            if kind == "kpi":
                item = Kpi.objects.filter(code=name).first()
            else:
                item = Objective.objects.filter(name=name, scorecard__unit__parent__isnull=True).first()
            if item is None:
                continue
            target = target_for(kind, item, slug=organization.slug)
            first = comment_create(target=target, author=people[author], body=text).comment
            for reply_author, reply in replies:
                comment_create(target=target, author=people[reply_author], body=reply, parent=first)
        self.stdout.write(self.style.SUCCESS(f"Demo comments created on {len(DEMO_COMMENTS)} items."))

    def seed_evidence(self, organization: Organization) -> None:
        """A PDF on the latest value of one KPI (DEMO_EVIDENCE), as its author would add it."""
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.template.loader import render_to_string
        from weasyprint import HTML

        from attachments.models import EvidenceFile
        from attachments.services import evidence_file_add
        from kpis.models import Measurement

        code, author, name, title, lines = DEMO_EVIDENCE
        with organization_scope(organization):
            if EvidenceFile.objects.exists():
                return
            measurement = Measurement.objects.filter(kpi__code=code).order_by("-period").first()
            if measurement is None:
                return
            html = render_to_string("attachments/demo_evidence.html", {"title": title, "lines": lines})
            pdf = HTML(string=html).write_pdf()
            by = User.objects.get(email=author)
            upload = SimpleUploadedFile(name, pdf, content_type="application/pdf")
            evidence_file_add(target=measurement, kind="measurement", upload=upload, by=by)
        self.stdout.write(self.style.SUCCESS(f"Demo evidence file added to {code} ({measurement.period:%b %Y})."))

    @staticmethod
    def _distinct_titles(items: list) -> None:
        """No two items of one session, and no two items still open, share a title: a list of open actions
        reads as a list of different things to do."""
        titles = random.Random(2028)
        taken_open: set[str] = set()
        by_session: dict[int, set[str]] = {}
        for item in sorted(items, key=lambda i: (i.status != "open", i.due_date)):
            taken = by_session.setdefault(id(item.session), set())
            avoid = taken | (taken_open if item.status == "open" else set())
            if item.title in avoid:
                free = [t for t in DEMO_ACTIONS if t not in avoid]
                item.title = titles.choice(free) if free else f"{item.title} ({item.due_date:%b %Y})"
            taken.add(item.title)
            if item.status == "open":
                taken_open.add(item.title)

    @staticmethod
    def _write_notes(session, rng: random.Random, red: list) -> None:
        first, second = rng.sample(DEMO_NOTE_TOPICS, 2)
        lines = ["## Discussed", ""]
        if red:
            lines.append("- **Red:** " + ", ".join(f"{kpi.code} ({kpi.name.lower()})" for kpi in red[:3]))
        lines += [f"- {first.capitalize()}", f"- {second.capitalize()}", "",
                  f"Agreed to come back to *{first}* next time."]  # fmt: skip
        session.notes = "\n".join(lines)
        session.wins = rng.choice(DEMO_WINS)
        session.challenges = rng.choice(DEMO_CHALLENGES)

    @staticmethod
    def _demo_item(session, rng: random.Random, today: date, tz, now, *, owners, kpi):
        """Items of older sessions are mostly closed (on time or late); recent ones may be open and overdue."""
        from coaching.models import ActionItem

        held_day = session.occurrence
        due = held_day + timedelta(days=rng.choice([7, 14, 14, 21, 28]))
        item = ActionItem(
            organization_id=session.organization_id, title=rng.choice(DEMO_ACTIONS), owner=rng.choice(owners),
            unit_id=session.unit_id, due_date=due, created_by=session.coach, session=session, kpi=kpi,
        )  # fmt: skip
        if due >= today:
            return item  # still open, not yet due
        roll = rng.random()
        recent = (today - due).days < 75
        if roll < 0.55:
            done_on = due - timedelta(days=rng.randint(0, 5))
        elif roll < 0.8 or not recent:
            done_on = due + timedelta(days=rng.randint(2, 15))
        elif roll < 0.85:
            item.status = "dropped"
            return item
        else:
            return item  # open and overdue
        item.status = "done"
        item.completed_at = min(datetime.combine(max(done_on, held_day), time(16, 30), tzinfo=tz), now)
        return item

"""The demo data: a manufacturing company with three levels of units, a user per persona, a strategy
map cascaded to the divisions and a department, roll-up KPIs reaching the top; seeding twice adds nothing."""

import pytest
from django.core.management import call_command

from bsc.models import CauseEffectLink, Initiative, Membership, Objective, OrgUnit, User
from bsc.org_calendar import due_month, month_shift
from bsc.tenancy import dangerously_unscoped
from coaching.models import ActionItem, Cadence, CoachingSession, ReviewPack, SessionKpiSnapshot
from kpis.models import Kpi, KpiScore, Measurement, PeriodClose, ScorecardScore, TargetRecalibration

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates


def counts():
    with dangerously_unscoped():
        return {
            model.__name__: model.objects.count()
            for model in (
                User, Membership, OrgUnit, Objective, CauseEffectLink, Initiative, Kpi, Measurement, Cadence,
                CoachingSession, SessionKpiSnapshot, ActionItem, ReviewPack,
            )
        }  # fmt: skip


def test_the_demo_is_seeded_once_with_every_persona_and_an_aligned_map(db):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    assert first["User"] == 5 and first["OrgUnit"] == 12
    with dangerously_unscoped():
        assert sorted(Membership.objects.values_list("role", flat=True)) == [
            "admin",
            "coach",
            "department_head",
            "executive",
            "viewer",
        ]
        assert sorted(set(OrgUnit.objects.values_list("depth", flat=True))) == [0, 1, 2]
        company = Objective.objects.filter(scorecard__unit__depth=0)
        assert company.count() == 12
        assert CauseEffectLink.objects.filter(scorecard__unit__depth=0).count() == 11
        operations = Objective.objects.filter(scorecard__unit__name="Operations")
        assert operations.count() == 8  # the company's objectives it serves (by KPIs or its departments')
        assert all(o.aligned_to.scorecard.unit.depth == 0 for o in operations)
        assembly = Objective.objects.filter(scorecard__unit__name="Assembly")
        assert assembly.count() == 6
        assert all(o.aligned_to.scorecard.unit.name == "Operations" for o in assembly)
        assert Initiative.objects.count() == 4
        assert Kpi.objects.count() == 49
        # the four roll-ups have computed values only; engagement (HR-ENG) misses its last three months
        assert Measurement.objects.count() == 45 * 24 - 3
        assert_rollups_reach_the_top()
        assert TargetRecalibration.objects.count() == 3
        statuses = set(KpiScore.objects.filter(period_kind="month").values_list("status", flat=True))
        assert {"green", "amber", "red"} <= statuses
        assert not Kpi.objects.filter(objective__isnull=True).exists()

        assert_coaching_demo()
        assert_comments_demo()
        pack = ReviewPack.objects.get()
        assert (pack.status, pack.unit.depth, pack.period_kind) == ("done", 0, "month")
        assert pack.pdf_pages >= 6
        # the pack is the last closed month's: the one before the month now due, closed for the whole company
        close = PeriodClose.objects.get()
        assert (close.unit_id, close.month, close.reopened_at) == (pack.unit_id, pack.period, None)
        assert close.month == month_shift(due_month(pack.organization), -1)


def assert_rollups_reach_the_top():
    """The pipeline of three sales departments adds up in their division and at the company; every unit
    with scored KPIs below it has a scorecard score."""
    from django.db.models import Sum

    last = Measurement.objects.order_by("-period").values_list("period", flat=True)[0]
    departments = Measurement.objects.filter(kpi__code__in=["FS-PIPE", "IS-PIPE", "MKT-PIPE"], period=last)
    total = departments.aggregate(total=Sum("value"))["total"]
    for code in ("SM-PIPE", "PIPE"):
        score = KpiScore.objects.get(kpi__code=code, period_kind="month", period=last)
        assert (score.actual, score.coverage) == (total, 1), code
    rework = KpiScore.objects.get(kpi__code="REWORK", period_kind="month", period=last)
    assert (
        rework.actual
        == Measurement.objects.filter(kpi__code__in=["ASM-REWORK", "QA-REWORK", "MNT-REWORK"], period=last).aggregate(
            total=Sum("value")
        )["total"]
    )
    scored = ScorecardScore.objects.filter(period_kind="month", period=last, score__isnull=False)
    assert scored.count() == OrgUnit.objects.count()


def assert_comments_demo():
    """Three threads (two on red KPIs, one on an objective) with two replies; each @mention notified its person once,
    even though the demo was seeded twice."""
    from coaching.models import Notification
    from comments.models import Comment

    assert Comment.objects.filter(parent__isnull=True).count() == 3 and Comment.objects.count() == 5
    mentioned = Notification.objects.filter(kind="mention").values_list("recipient__email", flat=True)
    assert sorted(mentioned) == ["coach@northwind.example", "ops.head@northwind.example"]


def assert_coaching_demo():
    """A year of coaching: three cadences, held sessions with notes and KPI snapshots, upcoming generated
    sessions, and action items done on time, done late and open past their due date."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    assert sorted(Cadence.objects.values_list("unit__name", "kind", "frequency")) == [
        ("Assembly", "check_in", "biweekly"),
        ("Operations", "monthly_review", "monthly"),
        ("Operations", "workshop", "monthly"),
    ]
    held = CoachingSession.objects.filter(status="held")
    assert held.filter(kind="monthly_review").count() in (12, 13)
    assert held.filter(scheduled_at__lt=timezone.now() - timedelta(days=330)).exists()
    assert not held.filter(notes="").exists() and not held.filter(wins="").exists()
    assert "## Discussed" in held.first().notes
    assert SessionKpiSnapshot.objects.filter(session__in=held).values("session").distinct().count() == held.count()
    assert CoachingSession.objects.filter(status="cancelled").exists()
    upcoming = CoachingSession.objects.filter(status="scheduled", scheduled_at__gt=timezone.now())
    assert set(upcoming.values_list("cadence__kind", flat=True)) == {"monthly_review", "check_in", "workshop"}
    assert not CoachingSession.objects.filter(status="scheduled", scheduled_at__lt=timezone.now()).exists()
    items = list(ActionItem.objects.all())
    on_time = [i for i in items if i.status == "done" and i.completed_at.date() <= i.due_date]
    late = [i for i in items if i.status == "done" and i.completed_at.date() > i.due_date]
    overdue = [i for i in items if i.is_overdue(today)]
    assert len(on_time) > 10 and len(late) > 5 and len(overdue) >= 3
    assert any(i.owner.email == "ops.head@northwind.example" for i in overdue)
    assert all(i.created_at <= i.completed_at for i in on_time + late)


def test_the_demo_tells_a_story_at_a_glance(db):
    """Units in each status, one department improving and one sliding, data mostly complete with one clear
    gap, on-time figures for a year, counts in whole numbers, flows adding up over a year, distinct open
    actions, and no objective that shows a box without anything to score it."""
    from decimal import Decimal

    from bsc import org_calendar
    from bsc.models import Organization
    from bsc.org_calendar import month_shift
    from coaching.selectors import accountability

    call_command("seed_demo")
    with dangerously_unscoped():
        organization = Organization.objects.get(slug="northwind")
        due = org_calendar.due_month(organization)
        cards = {
            s.scorecard.unit.name: s
            for s in ScorecardScore.objects.filter(period_kind="month", period=due).select_related("scorecard__unit")
        }
        statuses = [s.status for s in cards.values()]
        assert len(cards) == 12
        assert all(statuses.count(status) >= 2 for status in ("green", "amber", "red")), statuses
        assert (cards["Assembly"].status, cards["Quality Assurance"].status) == ("green", "red")
        year_ago = {
            s.scorecard.unit.name: s.score
            for s in ScorecardScore.objects.filter(period_kind="month", period=month_shift(due, -11))
        }
        assert cards["Assembly"].score - year_ago["Assembly"] > Decimal("0.25")  # improving
        assert year_ago["Quality Assurance"] - cards["Quality Assurance"].score > Decimal("0.25")  # sliding
        gaps = sorted(name for name, s in cards.items() if s.coverage < 1)
        assert gaps == ["Human Resources"]
        assert cards["Human Resources"].coverage == Decimal("0.5")

        admin = Membership.objects.get(organization=organization, role="admin")
        figures = accountability(organization=organization, membership=admin)
        on_time = [share.value for share in figures.overall.kpi_values]
        assert len(on_time) == 12
        assert sum(v is not None for v in on_time) >= 11  # the month now due may still be open
        assert all(Decimal("0.7") <= v < 1 for v in on_time if v is not None), on_time
        entering = set(Kpi.objects.filter(source="manual").values_list("unit__name", flat=True))
        assert {row.subject.name for row in figures.units} == entering and len(entering) == 10

        for kpi in Kpi.objects.filter(measurement_unit__in=["accounts", "visits", "leads", "audits"]):
            assert kpi.decimals == 0
            assert all(v == v.to_integral_value() for v in kpi.measurements.values_list("value", flat=True))
        assert dict(Kpi.objects.filter(code__in=["REV", "OPEX", "ASM-REWORK", "PIPE", "OTD"]).values_list(
            "code", "time_aggregation"
        )) == {"REV": "sum", "OPEX": "sum", "ASM-REWORK": "sum", "PIPE": "last", "OTD": "average"}  # fmt: skip

        titles = list(ActionItem.objects.filter(status="open").values_list("title", flat=True))
        assert len(titles) >= 3 and len(set(titles)) == len(titles)
        assert not Objective.objects.filter(kpis__isnull=True, aligned_from__isnull=True).exists()


def test_the_demo_answers_the_monthly_review(db):
    """What the dashboard and the map's evidence need: KPIs the forecast says will miss the year (two shaped to slip
    over the last 12 months), a red objective with open actions and the held session that last discussed it, one
    cause-effect link the data bears out (lag 1) and others it does not, and no recompute left waiting for a worker
    (the seed stored every score itself)."""
    from decimal import Decimal

    from bsc import org_calendar
    from bsc.models import Organization
    from coaching.selectors import objective_follow_up
    from kpis.forecast import HORIZONS
    from kpis.forecast_selectors import kpis_likely_to_miss
    from kpis.link_evidence import STRONG, evidence_body
    from kpis.models import LinkEvidence, ObjectiveScore, PendingRecompute

    call_command("seed_demo")
    with dangerously_unscoped():
        organization = Organization.objects.get(slug="northwind")
        assert not PendingRecompute.objects.filter(organization=organization).exists()

        due = org_calendar.due_month(organization)
        fiscal_year = org_calendar.current_fiscal_year(organization)
        entered = [
            m for m in org_calendar.fiscal_year_months(fiscal_year, organization.fiscal_year_start_month) if m <= due
        ]
        likely = {kpi.code: forecast for kpi, forecast in kpis_likely_to_miss(organization=organization)}
        minimum = HORIZONS["monthly"].minimum  # the demo's KPIs are monthly
        if len(entered) >= minimum:
            assert {"OPS-OTD", "CPPM"} <= set(likely), sorted(likely)
            assert likely["OPS-OTD"].periods_with_data >= minimum and likely["OPS-OTD"].slope < 0
            assert likely["CPPM"].slope > 0  # complaints, to be cut, rising
        else:  # early in the fiscal year no KPI has the six values a forecast needs
            assert likely == {}

        executive = Membership.objects.get(organization=organization, role="executive")
        red = list(ObjectiveScore.objects.filter(period_kind="month", period=due, status="red"))
        follow_up = objective_follow_up(
            organization=organization, membership=executive, objective_ids=[s.objective_id for s in red]
        )
        followed = [pk for pk, f in follow_up.items() if f.open_items and f.last_session is not None]
        assert followed, follow_up
        assert Objective.objects.filter(pk__in=followed, scorecard__unit__name="Operations").exists()
        assert not Objective.objects.filter(owner__isnull=True).exists()  # the panel names an owner for each

        links = [evidence_body(link) for link in CauseEffectLink.objects.select_related("source", "target", "evidence")]
        assert LinkEvidence.objects.count() == len(links) > 0
        strong = [
            e for e in links
            if (e["source"]["name"], e["target"]["name"]) == ("Lower cost per unit", "Improve operating margin")
            and e["strength"] == "strong"
        ]  # fmt: skip
        assert strong and all(abs(e["rho"]) >= max(Decimal("0.7"), Decimal(str(STRONG))) for e in strong), links
        assert all(e["best_lag"] == 1 and e["pairs"] >= 12 for e in strong)
        assert any(e["strength"] == "weak" and e["pairs"] >= 12 for e in links)

"""The demo data: a manufacturing company with three levels of units, a user per persona, a strategy
map cascaded to two units; seeding twice adds nothing."""

from django.core.management import call_command

from bsc.models import CauseEffectLink, Initiative, Membership, Objective, OrgUnit, User
from bsc.tenancy import dangerously_unscoped
from kpis.models import Kpi, KpiScore, Measurement, TargetRecalibration


def counts():
    with dangerously_unscoped():
        return {
            model.__name__: model.objects.count()
            for model in (User, Membership, OrgUnit, Objective, CauseEffectLink, Initiative, Kpi, Measurement)
        }


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
        assert operations.count() == 12
        assert all(o.aligned_to.scorecard.unit.depth == 0 for o in operations)
        assembly = Objective.objects.filter(scorecard__unit__name="Assembly")
        assert assembly.count() == 7
        assert all(o.aligned_to.scorecard.unit.name == "Operations" for o in assembly)
        assert Initiative.objects.count() == 4
        assert Kpi.objects.count() == 41
        assert Measurement.objects.count() == 41 * 24
        assert TargetRecalibration.objects.count() == 3
        statuses = set(KpiScore.objects.filter(period_kind="month").values_list("status", flat=True))
        assert {"green", "amber", "red"} <= statuses
        assert not Kpi.objects.filter(objective__isnull=True).exists()

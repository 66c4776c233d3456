"""The review pack of a unit with 100 KPIs (issue 16: "report its seconds and pages"): the whole build as the Celery
task runs it (content read, PDF laid out by WeasyPrint, spreadsheet written, stored), against WeasyPrint laying out
the bare scorecard table of the same unit in the same run (its 100 KPI rows read straight from the stored scores,
no map, no other section, no style): the floor of any PDF of that unit. The issue sets no ratio and asks for the
seconds and pages (in the figures); the target says the whole pack costs at most 5 bare tables."""

from __future__ import annotations

import random
from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape

from bench.timing import interleaved_medians
from bsc import org_calendar, services, strategy
from bsc.models import OrgUnit, Perspective, User
from bsc.tenancy import organization_scope
from coaching import review_packs
from coaching.models import ReviewPack
from kpis import services as kpi_services
from kpis.models import KpiScore
from kpis.recompute import scores_recompute_full

NAME = "review_pack"
TARGET = 5
KPIS = 100
SUB_UNITS = 8
WARMUP = 1
ROUNDS = 5
MIN_ROUNDS = 3
TIME_BUDGET_S = 60
SLUG = "bench-pack"


def _make_data():
    rng = random.Random(16)
    admin = User.objects.create_user("bench-pack@example.com", "bench-pass-phrase-1", full_name="Bench Admin")
    organization = services.organization_create(slug=SLUG, name="Bench Pack Inc.", admin=admin)
    month = org_calendar.due_month(organization)
    with organization_scope(organization):
        unit = OrgUnit.objects.get(parent__isnull=True)
        bands = list(Perspective.objects.filter(scorecard__unit=unit).order_by("order"))
        objectives = [
            strategy.objective_create(perspective=bands[i % 4], name=f"Objective {i}", x=(i // 4) * 260 + 20, y=40)
            for i in range(12)
        ]
        units = [services.org_unit_create(organization=organization, name=f"Plant {i}", parent=unit)
                 for i in range(SUB_UNITS)]  # fmt: skip
        for i in range(KPIS):
            kpi = kpi_services.kpi_create(
                unit=unit, name=f"KPI number {i}", code=f"K{i:03d}", baseline=Decimal(0), objective=objectives[i % 12]
            )
            kpi_services.target_set_year(kpi=kpi, fiscal_year=month.year, mode="same", value=Decimal(100), by=admin)
            value = Decimal(rng.randint(30, 110))
            comment = "Behind plan: the supplier was late." if value < 90 else ""
            kpi_services.measurement_record(
                kpi=kpi, period=month, value=value, by=admin, comment=comment, schedule=False
            )
        for i, plant in enumerate(units):
            band = Perspective.objects.filter(scorecard__unit=plant).order_by("order").first()
            goal = strategy.objective_create(perspective=band, name=f"Plant {i} output")
            kpi = kpi_services.kpi_create(
                unit=plant, name=f"Plant {i} output", code=f"P{i}", baseline=Decimal(0), objective=goal
            )
            kpi_services.target_set_year(kpi=kpi, fiscal_year=month.year, mode="same", value=Decimal(100), by=admin)
            kpi_services.measurement_record(
                kpi=kpi, period=month, value=Decimal(rng.randint(30, 110)), by=admin, schedule=False
            )
        scores_recompute_full(organization=organization)
    return organization, admin, unit, month


def run() -> dict:
    from weasyprint import HTML

    organization, admin, unit, month = _make_data()
    pages = []

    def measured():
        with organization_scope(organization):
            asked = review_packs.review_pack_request(
                organization=organization, unit=unit, kind="month", period=month, by=admin
            )
            pack = review_packs.review_pack_build(organization=organization, pack_id=asked.pack.pk)
            assert pack.status == "done", pack.error
            pages.append((pack.pdf_pages, len(pack.pdf), len(pack.xlsx)))
            ReviewPack.objects.filter(pk=pack.pk).delete()

    def baseline():
        with organization_scope(organization):
            rows = KpiScore.objects.filter(kpi__unit=unit, period_kind="month", period=month).values_list(
                "kpi__code", "kpi__name", "actual", "target", "score", "status"
            )
            cells = "".join(
                "<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row) + "</tr>"
                for row in rows.order_by("kpi__code")
            )
        HTML(string=f"<h1>{escape(unit.name)}</h1><table>{cells}</table>").write_pdf()

    started = timezone.now()
    baseline_s, measured_s = interleaved_medians(
        baseline, measured, warmup=WARMUP, rounds=ROUNDS, min_rounds=MIN_ROUNDS, budget_s=TIME_BUDGET_S
    )
    page_count, pdf_bytes, xlsx_bytes = pages[-1]
    return {
        "baseline_s": baseline_s,
        "measured_s": measured_s,
        "figures": {
            "kpis": KPIS,
            "sub_units": SUB_UNITS,
            "pack_s": round(measured_s, 2),
            "pages": page_count,
            "pdf_kb": round(pdf_bytes / 1024),
            "xlsx_kb": round(xlsx_bytes / 1024),
            "builds": len(pages),
            "wall_s": round((timezone.now() - started).total_seconds(), 1),
        },
    }

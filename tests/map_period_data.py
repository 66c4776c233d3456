"""The scored strategy map the period tests of the map share (tests/integration and tests/e2e
test_strategy_map_periods.py)."""

from datetime import date
from decimal import Decimal

from bsc import org_calendar as cal
from bsc import strategy
from bsc.models import Perspective
from bsc.tenancy import organization_scope
from kpis import services
from kpis.recompute import scores_recompute_full


def scored_map_months(world, *, second: str) -> list[date]:
    """Acme's company map, Customer band: 'Grow sales' red two months before the month now due, amber the month
    before, green in it; the objective named `second` with one value (green) two months back; 'Unscored' without
    KPIs. Stored scores rebuilt. Returns the three months, the month now due last."""
    org = world.org_a
    due = cal.due_month(org)
    months = [cal.month_shift(due, -2), cal.month_shift(due, -1), due]
    with organization_scope(org):
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        sales = strategy.objective_create(perspective=band, name="Grow sales", x=20, y=40)
        other = strategy.objective_create(perspective=band, name=second, x=300, y=40)
        strategy.objective_create(perspective=band, name="Unscored", x=600, y=40)
        orders = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=0, objective=sales)
        nps = services.kpi_create(unit=world.company_a, name="NPS", code="NPS", baseline=0, objective=other)
        for fiscal_year in {cal.fiscal_year_of(m, org.fiscal_year_start_month) for m in months}:
            for kpi in (orders, nps):
                services.target_set_year(
                    kpi=kpi, fiscal_year=fiscal_year, mode="same", value=Decimal(100), by=world.admin_a
                )
        for month, value in zip(months, (30, 70, 95), strict=True):
            services.measurement_record(
                kpi=orders, period=month, value=Decimal(value), by=world.admin_a, schedule=False
            )
        services.measurement_record(kpi=nps, period=months[0], value=Decimal(95), by=world.admin_a, schedule=False)
        scores_recompute_full(organization=org)
    return months

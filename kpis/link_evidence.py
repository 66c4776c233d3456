"""Evidence for a map's cause-effect links (issue 18): did the cause objective's score move with the effect
objective's score over the last 24 months, and with what delay?

For each link, the monthly changes of the two objectives' stored scores (ObjectiveScore, month rows) are paired at
lags of 0 to 3 months (the cause's change in month m with the effect's change in month m + lag) and compared with
Spearman's rank correlation; the lag with the largest |rho| is reported with its number of pairs.

Why the objectives' stored scores and not their KPIs' raw values: a score is already on one scale (0 to 1) and in
one direction (higher is better, whether the KPI is a cost to cut or a margin to grow), already weighs the
objective's KPIs and the sub-unit objectives aligned to it as the scorecard does, and is one stored row per month,
so the task reads one query for a whole organization. Changes rather than levels, so that two series that merely
both rise over two years do not look related. What it cannot see: a score held at 0 or 1 (clamped) does not move
even when its KPIs do. Correlation is not proof, and fewer than 12 pairs say little: the words say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.urls import reverse

from bsc import org_calendar
from bsc.models import CauseEffectLink, Organization
from kpis.models import LinkEvidence, ObjectiveScore

WINDOW = 24  # months read, ending with the month now due
LAGS = (0, 1, 2, 3)
MIN_PAIRS = 4  # below this a rank correlation is not computed at all
FEW_PAIRS = 12  # below this it is shown, with a warning that it says little
# |rho| from MODERATE is about what 20 pairs of pure noise reach by chance once in twenty (two-sided 5%); with four
# lags tried, noise often reaches 0.3 somewhere (tests/unit/test_link_evidence.py has such a series).
STRONG, MODERATE = 0.6, 0.45
CAUTION = "Correlation is not proof of cause: both may follow something else."
FEW_PAIRS_CAUTION = "Fewer than 12 paired months say little."


@dataclass(frozen=True)
class LagResult:
    lag: int
    rho: float | None
    pairs: int


@dataclass(frozen=True)
class Evidence:
    lags: tuple[LagResult, ...]
    best: LagResult | None

    @property
    def strength(self) -> str:
        """'strong', 'moderate', 'weak' or 'none' (no lag had enough pairs, or a series never moved)."""
        if self.best is None or self.best.rho is None:
            return "none"
        size = abs(self.best.rho)
        return "strong" if size >= STRONG else "moderate" if size >= MODERATE else "weak"


# --- The statistics (pure) ----------------------------------------------------------------------------------


def ranks(values: list[float]) -> list[float]:
    """Ranks from 1, ties sharing their average rank (as Spearman's rho needs)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rank correlation (Pearson's on the ranks); None below MIN_PAIRS pairs or when a side never
    changes (no ranking to compare)."""
    if len(xs) != len(ys):
        raise ValueError("Both series need the same number of values.")
    if len(xs) < MIN_PAIRS:
        return None
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def monthly_changes(series: dict[date, float], months: list[date]) -> dict[date, float]:
    """The change into each month from the month before, where both have a score (rounded to 6 decimals: scores
    are stored with 4, so equal changes stay ties instead of differing in a float's last digit)."""
    return {
        month: round(series[month] - series[previous], 6)
        for previous, month in zip(months, months[1:], strict=False)
        if month in series and previous in series
    }


def evidence(cause: dict[date, float], effect: dict[date, float], months: list[date]) -> Evidence:
    """The evidence of one link from the two objectives' monthly scores over `months` (consecutive, in order)."""
    cause_changes, effect_changes = monthly_changes(cause, months), monthly_changes(effect, months)
    results = []
    for lag in LAGS:
        paired = [
            (change, effect_changes[later])
            for month, change in cause_changes.items()
            if (later := org_calendar.month_shift(month, lag)) in effect_changes
        ]
        rho = spearman([x for x, _ in paired], [y for _, y in paired])
        results.append(LagResult(lag=lag, rho=rho, pairs=len(paired)))
    computed = [r for r in results if r.rho is not None]
    best = max(computed, key=lambda r: (round(abs(r.rho), 9), -r.lag)) if computed else None
    return Evidence(lags=tuple(results), best=best)


# --- Words ---------------------------------------------------------------------------------------------------


def describe(*, best_lag: int | None, rho: Decimal | float | None, pairs: int, lags: list[dict]) -> dict:
    """The plain-language reading of a stored (or computed) evidence: summary, strength and caution."""
    if rho is None:
        most = max((entry["pairs"] for entry in lags), default=0)
        return {
            "strength": "none",
            "summary": (
                f"No data to compare: the two objectives have {most} paired monthly change{'s' if most != 1 else ''} "
                f"at most; at least {MIN_PAIRS} are needed, with scores that move."
            ),
            "caution": CAUTION,
        }
    value = float(rho)
    size = abs(value)
    strength = "strong" if size >= STRONG else "moderate" if size >= MODERATE else "weak"
    way = "moved with" if value > 0 else "moved against"
    when = "in the same month" if best_lag == 0 else f"{best_lag} month{'s' if best_lag != 1 else ''} later"
    summary = f"{strength.capitalize()}: the effect {way} the cause {when} (rho {value:+.2f}, {pairs} paired months)."
    caution = CAUTION + (" " + FEW_PAIRS_CAUTION if pairs < FEW_PAIRS else "")
    return {"strength": strength, "summary": summary, "caution": caution}


# --- Stored evidence ------------------------------------------------------------------------------------------


def evidence_window(organization: Organization) -> list[date]:
    """The WINDOW months read: those ending with the month now due for data entry."""
    last = org_calendar.due_month(organization)
    return [org_calendar.month_shift(last, offset) for offset in range(1 - WINDOW, 1)]


def link_evidence_refresh(*, organization: Organization) -> int:
    """Compute and store the evidence of every cause-effect link of the organization (two reads, one upsert).
    Idempotent: a second run writes the same rows. Returns the number of links."""
    months = evidence_window(organization)
    links = list(CauseEffectLink.objects.for_organization(organization).values_list("id", "source_id", "target_id"))
    if not links:
        return 0
    objective_ids = {source for _, source, _ in links} | {target for _, _, target in links}
    series: dict[int, dict[date, float]] = {}
    rows = (
        ObjectiveScore.objects.for_organization(organization)
        .filter(
            objective_id__in=objective_ids,
            period_kind="month",
            period__gte=months[0],
            period__lte=months[-1],
            score__isnull=False,
        )  # fmt: skip
        .values_list("objective_id", "period", "score")
    )
    for objective_id, period, score in rows:
        series.setdefault(objective_id, {})[period] = float(score)
    rows = []
    for link_id, source_id, target_id in links:
        found = evidence(series.get(source_id, {}), series.get(target_id, {}), months)
        best = found.best
        rows.append(
            LinkEvidence(
                organization=organization,
                link_id=link_id,
                window_end=months[-1],
                best_lag=best.lag if best else None,
                pairs=best.pairs if best else 0,
                rho=_decimal(best.rho) if best else None,
                lags=[
                    {"lag": r.lag, "rho": None if r.rho is None else str(_decimal(r.rho)), "pairs": r.pairs}
                    for r in found.lags
                ],
            )  # fmt: skip
        )
    with transaction.atomic():
        LinkEvidence.objects.for_organization(organization).bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["link"],
            update_fields=["best_lag", "rho", "pairs", "lags", "window_end", "computed_at"],
        )
    return len(rows)


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.4f}")


# --- Reading it (pages and the API) ---------------------------------------------------------------------------

NOT_COMPUTED = "Not computed yet: the evidence is computed after the scores next change (and every night)."


def evidence_body(link: CauseEffectLink) -> dict:
    """A link's stored evidence with its words; `computed` false (and the words say why) before the first run.
    `link` comes with `source`, `target` and `evidence` selected (see `link_evidence_list`)."""
    stored = getattr(link, "evidence", None)
    base = {
        "link": link.pk,
        "source": {"id": link.source_id, "name": link.source.name},
        "target": {"id": link.target_id, "name": link.target.name},
    }
    if stored is None:
        return {
            **base, "computed": False, "best_lag": None, "rho": None, "pairs": 0, "lags": [], "window_end": None,
            "computed_at": None, "strength": "none", "summary": NOT_COMPUTED, "caution": CAUTION,
        }  # fmt: skip
    words = describe(best_lag=stored.best_lag, rho=stored.rho, pairs=stored.pairs, lags=stored.lags)
    return {
        **base, "computed": True, "best_lag": stored.best_lag, "rho": stored.rho, "pairs": stored.pairs,
        "lags": stored.lags, "window_end": stored.window_end, "computed_at": stored.computed_at, **words,
    }  # fmt: skip


def link_evidence_list(*, organization: Organization, scorecard_id: int) -> list[dict]:
    """The evidence of every link of one map, in one query."""
    links = (
        CauseEffectLink.objects.for_organization(organization)
        .filter(scorecard_id=scorecard_id)
        .select_related("source", "target", "evidence")
        .order_by("source__perspective__order", "source__name", "target__name")
    )
    return [evidence_body(link) for link in links]


def map_link_evidence(*, scorecard) -> dict:
    """For the map page's overlay (bsc.events.link_evidence): each arrow's strength and summary, and the table."""
    rows = link_evidence_list(organization=scorecard.organization, scorecard_id=scorecard.pk)
    return {
        "links": {row["link"]: {"strength": row["strength"], "summary": row["summary"]} for row in rows},
        "url": reverse("link_evidence", kwargs={"org_slug": scorecard.organization.slug, "unit_id": scorecard.unit_id}),
    }

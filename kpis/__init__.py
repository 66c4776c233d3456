"""KPIs, targets, measurements, scoring and roll-ups (filled in by the KPI and roll-up issues)."""

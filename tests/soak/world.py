"""The soak tests' organization, built in a soak stack's database through the services, and the checks that read it
back. Run as a program of the stack (`stack.run_json("tests.soak.world", "build", ...)`), it prints one JSON line.

`build`: organization "soak" (UTC, reminder hour given) with a company, a division and N departments; each
department has a head (department_head of that unit) owning three manual KPIs of it, one of which feeds the
division's roll-up KPI, itself feeding the company's; targets for the year, every score computed. Optionally
an action item due today for every head (so each gets the day's digest whatever they save), and coaching sessions
starting a day and k * step seconds from now (each one's reminder falls due k * step seconds into the test).

`scores`: the stored scores against a full recompute from the source rows (run in a transaction rolled back),
and the rows left in the recompute outbox."""

from __future__ import annotations

import argparse
import json
import os
from datetime import timedelta
from decimal import Decimal


def build(arguments) -> dict:
    from django.utils import timezone

    from bsc import org_calendar, strategy
    from bsc.models import Perspective, Role
    from bsc.tenancy import organization_scope
    from coaching import services as coaching_services
    from kpis import outbox, services
    from tests import factories

    admin = factories.make_user("admin@soak.example.com", full_name="Soak Admin")
    organization = factories.make_organization("soak", admin=admin, name="Soak Manufacturing")
    organization.reminder_hour = arguments.reminder_hour
    organization.save(update_fields=["reminder_hour"])
    company = factories.root_unit(organization)
    division = factories.make_unit(organization, "Operations", parent=company)
    coach = factories.add_member(organization, Role.COACH, user=factories.make_user("coach@soak.example.com")).user
    today = org_calendar.today(organization)
    month = org_calendar.due_month(organization)
    heads, head_users = [], []
    with organization_scope(organization):

        def objective(unit, name, aligned_to=None):
            band = Perspective.objects.get(scorecard__unit=unit, name="Customer")
            return strategy.objective_create(perspective=band, name=name, aligned_to=aligned_to)

        def kpi(unit, code, goal, target, **fields):
            item = services.kpi_create(unit=unit, name=code, code=code, objective=goal, baseline=Decimal(0), **fields)
            for year in {month.year, today.year}:
                services.target_set_year(kpi=item, fiscal_year=year, mode="same", value=Decimal(target), by=admin)
            return item

        grow = objective(company, "Grow")
        deliver = objective(division, "Deliver", aligned_to=grow)
        company_total = kpi(company, "CO", grow, 400 * arguments.heads, source="rollup", rollup_method="sum")
        division_total = kpi(
            division, "DIV", deliver, 200 * arguments.heads, source="rollup", rollup_method="sum",
            aligned_to=company_total,
        )  # fmt: skip
        for number in range(1, arguments.heads + 1):
            department = factories.make_unit(organization, f"Department {number}", parent=division)
            head = factories.make_user(f"head{number}@soak.example.com", full_name=f"Head {number}")
            factories.add_member(organization, Role.DEPARTMENT_HEAD, user=head, units=[department])
            goal = objective(department, f"Do well {number}", aligned_to=deliver)
            kpis = [
                kpi(department, f"D{number}A", goal, 200, owner=head, aligned_to=division_total),
                kpi(department, f"D{number}B", goal, 100, owner=head),
                kpi(department, f"D{number}C", goal, 50, owner=head, weight=Decimal(2)),
            ]
            if arguments.action_items:
                coaching_services.action_item_create(
                    organization=organization, title=f"Check the line {number}", owner=head, due_date=today,
                    created_by=admin, unit=department,
                )  # fmt: skip
            heads.append({"id": head.pk, "email": head.email, "kpis": [item.pk for item in kpis]})
            head_users.append(head)
        sessions = []
        start = timezone.now() + timedelta(days=1)
        for k in range(arguments.sessions):
            head = head_users[k % len(head_users)]
            session = coaching_services.session_schedule(
                unit=division, coach=coach, kind="check_in", participants=[head],
                scheduled_at=start + timedelta(seconds=(k + 1) * arguments.session_step),
            )  # fmt: skip
            sessions.append(
                {"id": session.pk, "due_in": (k + 1) * arguments.session_step, "people": [coach.pk, head.pk]}
            )
        outbox.scores_rebuild(organization=organization)
    return {
        "organization": organization.pk,
        "slug": organization.slug,
        "password": factories.PASSWORD,
        "month": f"{month:%Y-%m}",
        "today": today.isoformat(),
        "heads": heads,
        "division": division.pk,
        "coach": coach.pk,
        "sessions": sessions,
    }


def due_now(arguments) -> dict:
    """Reminders that fall due now: coaching sessions starting within the day (the coach and a head each get a
    session reminder) and an action item of the admin's due today (the admin's first digest of the day).
    Returns the dedupe keys those reminders must carry (docs/reminders.md)."""
    from django.utils import timezone

    from bsc import org_calendar
    from bsc.models import Organization, OrgUnit, Role, User
    from bsc.tenancy import organization_scope
    from coaching import services as coaching_services

    organization = Organization.objects.get(slug=arguments.slug)
    today = org_calendar.today(organization)
    admin = User.objects.get(email="admin@soak.example.com")
    coach = User.objects.get(email="coach@soak.example.com")
    keys = [f"daily-digest:{admin.pk}:{organization.pk}:{today.isoformat()}"]
    with organization_scope(organization):
        division = OrgUnit.objects.for_organization(organization).get(name="Operations")
        heads = list(
            User.objects.filter(
                memberships__organization=organization, memberships__role=Role.DEPARTMENT_HEAD
            ).order_by("pk")
        )
        coaching_services.action_item_create(
            organization=organization, title="Review the outage", owner=admin, due_date=today, created_by=admin,
            unit=division,
        )  # fmt: skip
        for k in range(arguments.sessions):
            head = heads[k % len(heads)]
            session = coaching_services.session_schedule(
                unit=division, coach=coach, kind="check_in", participants=[head],
                scheduled_at=timezone.now() + timedelta(hours=23, minutes=k + 1),
            )  # fmt: skip
            keys += [f"session-soon:{session.pk}:{coach.pk}", f"session-soon:{session.pk}:{head.pk}"]
    return {"keys": keys}


def scores(arguments) -> dict:
    from django.db import transaction

    from bsc.models import Organization
    from bsc.tenancy import organization_scope
    from kpis.models import PendingRecompute
    from kpis.recompute import scores_recompute_full
    from tests.recompute_world import stored_scores

    organization = Organization.objects.get(slug=arguments.slug)
    with organization_scope(organization):
        pending = PendingRecompute.objects.for_organization(organization).count()
        stored = stored_scores(organization)
        with transaction.atomic():
            scores_recompute_full(organization=organization)
            full = stored_scores(organization)
            transaction.set_rollback(True)
    differences = [repr(key) for key in sorted(set(stored) | set(full), key=repr) if stored.get(key) != full.get(key)]
    return {"rows": len(full), "differences": len(differences), "examples": differences[:5], "pending": pending}


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.soak.settings")
    django.setup()
    parser = argparse.ArgumentParser(prog="tests.soak.world")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build")
    make.add_argument("--heads", type=int, default=4)
    make.add_argument("--reminder-hour", type=int, default=8)
    make.add_argument("--action-items", action="store_true")
    make.add_argument("--sessions", type=int, default=0)
    make.add_argument("--session-step", type=int, default=10)
    check = commands.add_parser("scores")
    check.add_argument("slug")
    due = commands.add_parser("due-now")
    due.add_argument("slug")
    due.add_argument("--sessions", type=int, default=4)
    arguments = parser.parse_args()
    result = {"build": build, "scores": scores, "due-now": due_now}[arguments.command](arguments)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()

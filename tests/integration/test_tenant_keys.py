"""Tenant keys: every organization-owned table's unique keys and foreign keys (to other organization-owned
tables) include organization_id, so the schema can be distributed by organization (Citus, docs/operations.md)
or the table is listed below with the reason it does not, yet. A new table complies or is listed."""

from django.apps import apps
from django.db import connection

# Not listed per table: every primary key is Django's single column (`id`, or `pgh_id` for history). On the
# move each becomes (organization_id, id) in one mechanical migration (docs/operations.md, "Distributing by
# organization"); until then the single column is what Django's ORM expects.
#
# Neither checked: foreign keys to tables that are not organization-owned (bsc.Organization is the tenant
# itself, the distribution column's own table; users, sessions, content types and history contexts become
# Citus reference tables, to which any distributed table may point).

EXCEPTIONS: dict[str, list[str]] = {
    # Django has no composite foreign key: each of these points at the parent's `id` alone. The parent is in the
    # same organization (the services and the tenancy test check that), so on the move each becomes
    # (organization_id, <name>_id) -> (organization_id, id) once the primary keys are composite.
    "single-column foreign key between two tables of one organization": [
        "attachments.EvidenceFile: foreign key (action_item_id) -> coaching.ActionItem",
        "attachments.EvidenceFile: foreign key (measurement_id) -> kpis.Measurement",
        "attachments.EvidenceFile: foreign key (session_id) -> coaching.CoachingSession",
        "bsc.CauseEffectLink: foreign key (scorecard_id) -> bsc.Scorecard",
        "bsc.CauseEffectLink: foreign key (source_id) -> bsc.Objective",
        "bsc.CauseEffectLink: foreign key (target_id) -> bsc.Objective",
        "bsc.Initiative: foreign key (objective_id) -> bsc.Objective",
        "bsc.Objective: foreign key (aligned_to_id) -> bsc.Objective",
        "bsc.Objective: foreign key (perspective_id) -> bsc.Perspective",
        "bsc.Objective: foreign key (scorecard_id) -> bsc.Scorecard",
        "bsc.OrgUnit: foreign key (parent_id) -> bsc.OrgUnit",
        "bsc.Perspective: foreign key (scorecard_id) -> bsc.Scorecard",
        "bsc.Scorecard: foreign key (unit_id) -> bsc.OrgUnit",
        "coaching.ActionItem: foreign key (initiative_id) -> bsc.Initiative",
        "coaching.ActionItem: foreign key (kpi_id) -> kpis.Kpi",
        "coaching.ActionItem: foreign key (objective_id) -> bsc.Objective",
        "coaching.ActionItem: foreign key (session_id) -> coaching.CoachingSession",
        "coaching.ActionItem: foreign key (unit_id) -> bsc.OrgUnit",
        "coaching.Cadence: foreign key (unit_id) -> bsc.OrgUnit",
        "coaching.CoachingSession: foreign key (cadence_id) -> coaching.Cadence",
        "coaching.CoachingSession: foreign key (unit_id) -> bsc.OrgUnit",
        "coaching.NotificationPreference: foreign key (membership_id) -> bsc.Membership",
        "coaching.ReviewPack: foreign key (unit_id) -> bsc.OrgUnit",
        "coaching.SessionAttendance: foreign key (session_id) -> coaching.CoachingSession",
        "coaching.SessionKpiSnapshot: foreign key (kpi_id) -> kpis.Kpi",
        "coaching.SessionKpiSnapshot: foreign key (session_id) -> coaching.CoachingSession",
        "comments.Comment: foreign key (action_item_id) -> coaching.ActionItem",
        "comments.Comment: foreign key (initiative_id) -> bsc.Initiative",
        "comments.Comment: foreign key (kpi_id) -> kpis.Kpi",
        "comments.Comment: foreign key (objective_id) -> bsc.Objective",
        "comments.Comment: foreign key (parent_id) -> comments.Comment",
        "comments.CommentMention: foreign key (comment_id) -> comments.Comment",
        "kpis.Kpi: foreign key (aligned_to_id) -> kpis.Kpi",
        "kpis.Kpi: foreign key (objective_id) -> bsc.Objective",
        "kpis.Kpi: foreign key (unit_id) -> bsc.OrgUnit",
        "kpis.LinkEvidence: foreign key (link_id) -> bsc.CauseEffectLink",
        "kpis.Measurement: foreign key (kpi_id) -> kpis.Kpi",
        "kpis.PeriodClose: foreign key (unit_id) -> bsc.OrgUnit",
        "kpis.Target: foreign key (kpi_id) -> kpis.Kpi",
        "kpis.TargetRecalibration: foreign key (target_id) -> kpis.Target",
    ],
    # Unique within a parent row that belongs to one organization, so already unique per organization; on the
    # move organization_id is put first in the key (a wider key over the same rows cannot be violated).
    "unique within a parent of one organization (one-to-one fields included)": [
        "bsc.CauseEffectLink: unique (source_id, target_id)",
        "bsc.Perspective: unique (scorecard_id, name)",
        "bsc.Scorecard: unique (unit_id)",
        "coaching.CoachingSession: unique (cadence_id, occurrence)",
        "coaching.NotificationPreference: unique (membership_id)",
        "coaching.SessionAttendance: unique (session_id, user_id)",
        "coaching.SessionKpiSnapshot: unique (session_id, kpi_id)",
        "comments.CommentMention: unique (comment_id, user_id)",
        "kpis.KpiScore: unique (kpi_id, period_kind, period)",
        "kpis.LinkEvidence: unique (link_id)",
        "kpis.Measurement: unique (kpi_id, period)",
        "kpis.ObjectiveScore: unique (objective_id, period_kind, period)",
        "kpis.PeriodClose: unique (unit_id, month)",
        "kpis.PerspectiveScore: unique (perspective_id, period_kind, period)",
        "kpis.ScorecardScore: unique (scorecard_id, period_kind, period)",
        "kpis.Target: unique (kpi_id, period)",
    ],
    # Django's implicit join tables have only the two ids. Before the move each gets an explicit `through`
    # model with its own organization foreign key (filled from the owner row), like SessionAttendance has.
    "join table of a many-to-many field, without an organization_id column": [
        "bsc.Invitation_units: foreign key (invitation_id) -> bsc.Invitation",
        "bsc.Invitation_units: foreign key (orgunit_id) -> bsc.OrgUnit",
        "bsc.Invitation_units: no organization_id column",
        "bsc.Invitation_units: unique (invitation_id, orgunit_id)",
        "bsc.Membership_units: foreign key (membership_id) -> bsc.Membership",
        "bsc.Membership_units: foreign key (orgunit_id) -> bsc.OrgUnit",
        "bsc.Membership_units: no organization_id column",
        "bsc.Membership_units: unique (membership_id, orgunit_id)",
        "coaching.Cadence_participants: foreign key (cadence_id) -> coaching.Cadence",
        "coaching.Cadence_participants: no organization_id column",
        "coaching.Cadence_participants: unique (cadence_id, user_id)",
        "coaching.CoachingSession_participants: foreign key (coachingsession_id) -> coaching.CoachingSession",
        "coaching.CoachingSession_participants: no organization_id column",
        "coaching.CoachingSession_participants: unique (coachingsession_id, user_id)",
    ],
    # A coaching session's and a comment's history copy only the tracked text fields (pghistory.track(...,
    # fields=...)), so their rows cannot be placed by organization; before the move the organization is added to
    # the tracked snapshot and filled from the tracked row.
    "history table that does not copy the organization": [
        "coaching.CoachingSessionEvent: no organization_id column",
        "comments.CommentEvent: no organization_id column",
    ],
    # Looked up before any organization is known: an invitation by the token in its link, a reminder by the key
    # that makes it exist once across every organization (the key names the organization or one of its rows). On the move:
    # (organization_id, key) unique, and the token's lookup goes through a small reference table (token hash
    # -> organization) or a query routed to every shard (rare: one per invitation accepted).
    "globally unique by design, looked up without the organization": [
        "bsc.Invitation: unique (token_hash)",
        "coaching.Notification: unique (dedupe_key)",
    ],
}


def owned_models() -> dict:
    """The organization-owned models: those with an `organization` foreign key, and those owned through a
    parent (a required foreign key to an owned model, or the join table of an owned model's many-to-many)."""
    owned = {m: "organization" for m in apps.get_models() if any(
        f.name == "organization" and f.many_to_one for f in m._meta.fields)}  # fmt: skip
    grown = True
    while grown:
        grown = False
        for model in apps.get_models():
            if model in owned:
                for field in model._meta.local_many_to_many:
                    through = field.remote_field.through
                    if through not in owned:
                        owned[through], grown = f"parent {model._meta.label}", True
                continue
            for field in model._meta.fields:
                if field.many_to_one and not field.null and field.related_model in owned:
                    owned[model], grown = f"parent {field.related_model._meta.label}", True
                    break
    return owned


def violations() -> list[str]:
    owned = owned_models()
    tables = {model._meta.db_table: model for model in owned}
    found = []
    with connection.cursor() as cursor:
        for model in sorted(owned, key=lambda m: m._meta.label):
            label = model._meta.label
            if not any(f.column == "organization_id" for f in model._meta.fields):
                found.append(f"{label}: no organization_id column")
            for constraint in connection.introspection.get_constraints(cursor, model._meta.db_table).values():
                columns = constraint["columns"]
                if "organization_id" in columns:
                    continue
                if constraint["primary_key"] and columns == [model._meta.pk.column]:
                    continue
                if constraint["unique"]:
                    found.append(f"{label}: unique ({', '.join(columns)})")
                elif constraint["foreign_key"] and constraint["foreign_key"][0] in tables:
                    target = tables[constraint["foreign_key"][0]]._meta.label
                    found.append(f"{label}: foreign key ({', '.join(columns)}) -> {target}")
    return sorted(set(found))


def test_every_tenant_key_includes_the_organization_or_is_listed_with_its_reason(db):
    listed = [item for items in EXCEPTIONS.values() for item in items]
    assert len(listed) == len(set(listed)), "an exception is listed twice"
    found = violations()
    unlisted = sorted(set(found) - set(listed))
    assert not unlisted, "keys without organization_id, neither fixed nor listed with a reason:\n" + "\n".join(unlisted)
    stale = sorted(set(listed) - set(found))
    assert not stale, "listed exceptions that no longer exist (remove them):\n" + "\n".join(stale)

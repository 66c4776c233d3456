"""kpis' questions to the apps built on it (docs/architecture.md, "Layers"): kpis asks through these hooks and never
imports coaching; coaching answers them in CoachingConfig.ready(). The hooks are bsc.events.Hook: each subscriber is
called with the same keyword arguments, inside the caller's transaction."""

from bsc.events import Hook

# organization, kpi, action (kpis.causes.ActionPlan), by: each subscriber answers {field: [messages]} saying what is
# wrong with the action item a red value names (its owner, due date, title or the open item linked); writes nothing.
red_action_problems = Hook("red_action_problems")
# organization, kpi, action, by: create the action item the red value names, or link the open one to the KPI, in the
# caller's transaction; a refusal raises ValidationError by field (the caller's transaction then writes nothing).
red_action_record = Hook("red_action_record")
# organization, kpis: each subscriber answers {kpi id: [open action items of the KPI]} (they have pk, title, owner,
# due_date): the items a red value may be linked to.
open_action_items = Hook("open_action_items")
# organization, kpi_ids: each subscriber answers the set of those KPI ids that have an open action item.
kpis_with_open_action = Hook("kpis_with_open_action")

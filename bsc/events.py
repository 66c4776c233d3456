"""The core's news and questions for the apps built on it (docs/architecture.md, "Layers"): bsc announces through these hooks
and never imports kpis or coaching; a higher app subscribes in its AppConfig.ready()."""

from collections.abc import Callable
from typing import Any


class Hook:
    """One kind of news. `send` calls each subscriber with the same keyword arguments, in the order they
    subscribed and inside the announcer's transaction, and returns their answers in that order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.receivers: list[Callable[..., Any]] = []

    def subscribe(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        if receiver not in self.receivers:  # ready() may run twice in tests; subscribe once
            self.receivers.append(receiver)
        return receiver

    def send(self, **kwargs: Any) -> list[Any]:
        return [receiver(**kwargs) for receiver in self.receivers]


# organization_id: a setting every stored score depends on changed (thresholds, fiscal year start).
settings_changed = Hook("settings_changed")
# user: each subscriber answers {name: expression} to annotate on each of the person's memberships as the access check
# of every page reads them (bsc.selectors.membership_switch_list), so that what the layout shows of each organization
# comes with the one query (coaching: the unread notifications of the inbox badge).
membership_annotations = Hook("membership_annotations")
# organization_id, unit_ids: what these units score with changed (objectives, perspectives, weights, alignment).
map_changed = Hook("map_changed")
# unit: the unit left its parent; each subscriber releases what it aligned to the old parent's map and
# answers how many it released.
unit_moved = Hook("unit_moved")
# objective: each subscriber answers a list of reasons the objective cannot be deleted yet.
objective_delete_blockers = Hook("objective_delete_blockers")
# scorecard, kind, period: each subscriber answers {objective id: {"status", "score"}} stored for the period of that
# kind ("month", "quarter" or "year") starting in `period` (its first month); kind None and period None: the month
# now due.
objective_statuses = Hook("objective_statuses")
# organization: each subscriber answers (first month, last month) of the organization's stored monthly scores, or
# None without any (the map's period selector names the range a period must fall in).
score_months = Hook("score_months")
# unit: each subscriber answers how many of the unit's items cascade into its parent's (moving it releases them).
unit_alignment_count = Hook("unit_alignment_count")
# organization, unit: each subscriber answers HTML (or "") to show beside the heading of the unit's strategy map
# (kpis: the "Recomputing…" badge while the unit's stored scores wait for a recompute).
unit_map_badges = Hook("unit_map_badges")
# objective: each subscriber answers a list of the items serving it, as the API's objective detail shows them
# (kpis: the active KPIs with their status for the month now due).
objective_kpis = Hook("objective_kpis")
# scorecard: each subscriber answers {"links": {link id: {"strength", "summary"}}, "url": a page with the details}:
# how strongly each arrow's cause and effect moved together (kpis: the stored link evidence, issue 18).
link_evidence = Hook("link_evidence")
# organization, kind ("kpi", "objective", "initiative" or "action-item"): each subscriber answers the address of a
# panel of its own for one item of that kind, with "{pk}" standing for the item's id, or "" for none (comments: the
# item's thread). Pages embed the panels with htmx (bsc.templatetags.item_panels), without importing the app.
item_panels = Hook("item_panels")
# request, kind ("measurement", "action-item" or "session"), pk, what (the item's name for screen readers): each
# subscriber answers HTML (or "") to embed in the page showing that item (attachments: its evidence files panel,
# loaded by htmx); templates ask through the `evidence_panel` tag of bsc/templatetags/embeds.py.
evidence_panel = Hook("evidence_panel")
# older_than (a datetime): each subscriber answers a list of bsc.publish.Queued, its work waiting for a worker since
# before then (an import, a review pack), whose task bsc.publish.queued_tasks_republish publishes again (lost when
# the broker was down, or between commit and publish).
queued_tasks = Hook("queued_tasks")

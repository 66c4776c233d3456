from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "KPIs"

    def ready(self) -> None:
        # The core's news (bsc/events.py): kpis owns KPIs and the stored scores, so it answers for them.
        from bsc import events
        from kpis import hooks, link_evidence, selectors, services, tasks

        events.settings_changed.subscribe(services.scores_schedule_rebuild)
        events.map_changed.subscribe(services.scores_schedule_units)
        events.unit_moved.subscribe(services.kpi_alignments_release)
        events.objective_delete_blockers.subscribe(selectors.objective_delete_blockers)
        events.objective_statuses.subscribe(selectors.objective_statuses)
        events.score_months.subscribe(selectors.score_months)
        events.unit_alignment_count.subscribe(selectors.kpi_aligned_count)
        events.unit_map_badges.subscribe(hooks.unit_map_badge)
        events.objective_kpis.subscribe(selectors.objective_kpis)
        events.link_evidence.subscribe(link_evidence.map_link_evidence)
        events.queued_tasks.subscribe(tasks.imports_queued)

from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Coaching"

    def ready(self) -> None:
        # kpis' questions (kpis/events.py): coaching owns action items, so it answers for a red value's one.
        from bsc import events as core_events
        from coaching import red_actions, review_packs
        from kpis import events

        events.red_action_problems.subscribe(red_actions.red_action_problems)
        events.red_action_record.subscribe(red_actions.red_action_record)
        events.open_action_items.subscribe(red_actions.open_action_items)
        events.kpis_with_open_action.subscribe(red_actions.kpis_with_open_action)
        # The core's republish of work whose task was lost (bsc/publish.py): coaching answers for review packs.
        core_events.queued_tasks.subscribe(review_packs.review_packs_queued)
        # The core's access check reads each membership's unread notifications with it (the layout's inbox badge).
        from bsc.events import membership_annotations
        from coaching.selectors import membership_unread_notifications

        membership_annotations.subscribe(membership_unread_notifications)
        # The KPI page's "Action items" panel (the page loads it with htmx; kpis never imports coaching).
        from coaching import hooks

        core_events.item_panels.subscribe(hooks.kpi_actions_panel)

"""Comments on KPIs, objectives, initiatives and action items: threaded, Markdown sanitised, with @mentions."""

from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self) -> None:
        # The pages of the apps below embed an item's thread through the core's hook, never importing comments.
        from bsc import events
        from comments import hooks

        events.item_panels.subscribe(hooks.thread_panel)

from django.apps import AppConfig


class BscConfig(AppConfig):
    name = "bsc"
    verbose_name = "Balanced Scorecard core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from bsc.access import note_session_day

        user_logged_in.connect(note_session_day, dispatch_uid="bsc.note_session_day")

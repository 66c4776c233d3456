from django.apps import AppConfig


class BscConfig(AppConfig):
    name = "bsc"
    verbose_name = "Balanced Scorecard core"

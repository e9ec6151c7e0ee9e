from django.apps import AppConfig


class ReplayConfig(AppConfig):
    name = "apps.replay"
    verbose_name = "Replay (demo on real data)"

from django.apps import AppConfig


class GreenpowerConfig(AppConfig):
    name = "apps.greenpower"
    verbose_name = "Green power and compute metering"

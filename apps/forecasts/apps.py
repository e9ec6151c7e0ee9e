from django.apps import AppConfig


class ForecastsConfig(AppConfig):
    name = "apps.forecasts"
    verbose_name = "Forecasts"

from django.apps import AppConfig


class OpenadrConfig(AppConfig):
    name = "apps.openadr"
    verbose_name = "OpenADR 3.1 VTN"

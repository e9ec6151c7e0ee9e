"""Routes of the OpenADR 3.1.0 VTN under ``/openadr3/3.1.0/``."""

app_name = "openadr"
urlpatterns: list = []

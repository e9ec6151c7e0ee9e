"""Page of the green-power app (mounted at ``/green/`` by vpp/urls.py)."""

from django.urls import path

from . import views

app_name = "greenpower"

urlpatterns = [path("", views.green_page, name="page")]

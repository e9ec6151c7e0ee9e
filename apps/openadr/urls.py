"""Routes of the OpenADR 3.1.0 VTN under ``/openadr3/3.1.0/`` (openadr3.yaml ``paths``).

Paths have no trailing slash, as in the spec (one is tolerated). Any other path under the prefix answers a
problem 404.
"""

from django.urls import re_path

from .api import auth, notifiers, views
from .api.base import not_found

app_name = "openadr"

_ID = r"(?P<object_id>[^/]+)"

urlpatterns = [
    re_path(r"^auth/server/?$", auth.AuthServerView.as_view(), name="auth-server"),
    re_path(r"^auth/token/?$", auth.AuthTokenView.as_view(), name="auth-token"),
    re_path(r"^programs/?$", views.ProgramsView.as_view(), name="programs"),
    re_path(rf"^programs/{_ID}/?$", views.ProgramView.as_view(), name="program"),
    re_path(r"^events/?$", views.EventsView.as_view(), name="events"),
    re_path(rf"^events/{_ID}/?$", views.EventView.as_view(), name="event"),
    re_path(r"^vens/?$", views.VensView.as_view(), name="vens"),
    re_path(rf"^vens/{_ID}/?$", views.VenView.as_view(), name="ven"),
    re_path(r"^resources/?$", views.ResourcesView.as_view(), name="resources"),
    re_path(rf"^resources/{_ID}/?$", views.ResourceView.as_view(), name="resource"),
    re_path(r"^reports/?$", views.ReportsView.as_view(), name="reports"),
    re_path(rf"^reports/{_ID}/?$", views.ReportView.as_view(), name="report"),
    re_path(r"^subscriptions/?$", views.SubscriptionsView.as_view(), name="subscriptions"),
    re_path(rf"^subscriptions/{_ID}/?$", views.SubscriptionView.as_view(), name="subscription"),
    re_path(r"^notifiers/?$", notifiers.NotifiersView.as_view(), name="notifiers"),
    re_path(r"^notifiers/mqtt/topics/(?P<path>.+)$", notifiers.MqttTopicsView.as_view(), name="mqtt-topics"),
    re_path(r"^(?P<path>.*)$", not_found, name="not-found"),
]

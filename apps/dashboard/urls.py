"""Pages of the staff dashboard, the site-owner portal and the market-operator home, and the login pages."""

from django.contrib.auth import views as auth_views
from django.urls import path, re_path, reverse_lazy

from apps.accounts.throttling import ThrottledLoginView

from . import enrolment_views, views
from .access import login_required_here

app_name = "dashboard"

ACTIONS = "submit|approve|reject|activate|suspend"
KINDS = "workloads|batteries|pv-arrays"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        ThrottledLoginView.as_view(
            template_name="dashboard/auth/login.html",
            redirect_authenticated_user=True,
            next_page="dashboard:home",
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
    path(
        "account/password/",
        login_required_here(
            auth_views.PasswordChangeView.as_view(
                template_name="dashboard/auth/password_change.html",
                success_url=reverse_lazy("dashboard:password_change_done"),
            )
        ),
        name="password_change",
    ),
    path(
        "account/password/done/",
        login_required_here(
            auth_views.PasswordChangeDoneView.as_view(
                template_name="dashboard/auth/password_change_done.html"
            )
        ),
        name="password_change_done",
    ),
    # staff (aggregator)
    path("overview/", views.overview, name="overview"),
    path("sites/", views.site_list, name="site_list"),
    # staff and site owners (scoped: another owner's site is 404)
    path("sites/<int:pk>/", views.site_detail, name="site_detail"),
    re_path(rf"^sites/(?P<pk>[0-9]+)/(?P<action>{ACTIONS})/$", views.site_action, name="site_action"),
    # staff and site owners: events and revenue (an owner sees only its own sites' part)
    path("events/", views.event_list, name="event_list"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("revenue/", views.revenue_page, name="revenue"),
    # staff
    path("forecasts/", views.forecast_accuracy, name="forecast_accuracy"),
    # site owners
    path("portal/", views.portal, name="portal"),
    path("portal/sites/new/", enrolment_views.site_create, name="site_create"),
    path("sites/<int:pk>/edit/", enrolment_views.site_edit, name="site_edit"),
    path("sites/<int:pk>/delete/", enrolment_views.site_delete, name="site_delete"),
    re_path(
        rf"^sites/(?P<pk>[0-9]+)/(?P<kind>{KINDS})/new/$", enrolment_views.asset_form, name="asset_create"
    ),
    re_path(
        rf"^sites/(?P<pk>[0-9]+)/(?P<kind>{KINDS})/(?P<asset_pk>[0-9]+)/edit/$",
        enrolment_views.asset_form,
        name="asset_edit",
    ),
    re_path(
        rf"^sites/(?P<pk>[0-9]+)/(?P<kind>{KINDS})/(?P<asset_pk>[0-9]+)/delete/$",
        enrolment_views.asset_delete,
        name="asset_delete",
    ),
    # market operators
    path("operator/", views.operator_home, name="operator_home"),
]

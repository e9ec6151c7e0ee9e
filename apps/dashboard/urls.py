"""Pages of the staff dashboard and the site-owner portal."""

app_name = "dashboard"
urlpatterns: list = []

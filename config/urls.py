from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("media/<path:path>", views.media, name="media"),
    path("accounts/", include("allauth.urls")),
    # Before the admin's own URLs: the operator signs in on the same rate-limited page as everyone.
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("", include("cdp.urls")),
    path("", include("integrations.urls")),
    path("", include("onboarding.urls")),
]

handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

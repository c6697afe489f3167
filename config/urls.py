from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("media/<path:path>", views.media, name="media"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("cdp.urls")),
    path("", include("integrations.urls")),
    path("", include("onboarding.urls")),
]

handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

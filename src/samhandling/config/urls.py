from django.contrib import admin
from django.urls import include, path

from samhandling.core.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("fhir/", include("samhandling.fhir.urls")),
    path("admin/", admin.site.urls),
    path("", include("samhandling.core.urls")),
    path("", include("samhandling.directory.urls")),
    # The editor pages first: the public pattern pathways/<slug>/ would match "edit".
    path("pathways/edit/", include(("samhandling.pathways.urls_edit", "pathways_edit"))),
    path("pathways/", include(("samhandling.pathways.urls_public", "pathways"))),
]

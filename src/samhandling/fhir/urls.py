from django.urls import path, re_path

from samhandling.fhir import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("HealthcareService", views.healthcareservice_search, name="healthcareservice-search"),
    path(
        "HealthcareService/<str:id>",
        views.healthcareservice_read,
        name="healthcareservice-read",
    ),
    path("PlanDefinition", views.plandefinition_search, name="plandefinition-search"),
    path("PlanDefinition/<str:id>", views.plandefinition_read, name="plandefinition-read"),
    path("Organization/<str:id>", views.organization_read, name="organization-read"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]

from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "samhandling.fhir"
    label = "fhir"
    verbose_name = "FHIR R4"

"""The CapabilityStatement served at /fhir/metadata."""

from importlib.metadata import PackageNotFoundError, version

from django.utils import timezone

from samhandling.fhir.search import DEFAULT_COUNT, HEALTHCARESERVICE_PARAMS, MAX_COUNT

FHIR_VERSION = "4.0.1"


def _software_version() -> str:
    try:
        return version("samhandling")
    except PackageNotFoundError:
        return "unknown"


def capability_statement(*, base_url: str) -> dict:
    """What this server offers: read and search of HealthcareService, read of Organization."""
    search_params = [
        {
            "name": p.name,
            "definition": p.definition,
            "type": p.type,
            "documentation": p.documentation,
        }
        for p in HEALTHCARESERVICE_PARAMS
    ]
    return {
        "resourceType": "CapabilityStatement",
        "url": f"{base_url}metadata",
        "name": "SamhandlingDirectory",
        "title": "Samhandling service directory",
        "status": "active",
        "date": timezone.localdate().isoformat(),
        "publisher": "Samhandling",
        "kind": "instance",
        "software": {"name": "Samhandling", "version": _software_version()},
        "implementation": {
            "description": "Samhandling service directory (open, no login)",
            "url": base_url,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"Searches page with `_count` (default {DEFAULT_COUNT}, at most "
                    f"{MAX_COUNT}) and `_offset` (0-based). Unknown parameters are refused "
                    "with 400 and an OperationOutcome."
                ),
                "resource": [
                    {
                        "type": "HealthcareService",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": search_params,
                    },
                    {"type": "Organization", "interaction": [{"code": "read"}]},
                ],
            }
        ],
    }

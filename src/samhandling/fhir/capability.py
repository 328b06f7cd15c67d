"""The CapabilityStatement served at /fhir/metadata."""

from importlib.metadata import PackageNotFoundError, version

from django.utils import timezone

from samhandling.fhir.plandefinition import PLANDEFINITION_PARAMS
from samhandling.fhir.search import DEFAULT_COUNT, HEALTHCARESERVICE_PARAMS, MAX_COUNT, SearchParam

FHIR_VERSION = "4.0.1"


def _software_version() -> str:
    try:
        return version("samhandling")
    except PackageNotFoundError:
        return "unknown"


def _search_params(params: list[SearchParam]) -> list[dict]:
    return [
        {
            "name": p.name,
            "definition": p.definition,
            "type": p.type,
            "documentation": p.documentation,
        }
        for p in params
    ]


def capability_statement(*, base_url: str) -> dict:
    """What this server offers: HealthcareService and PlanDefinition read and search, and
    Organization read."""
    return {
        "resourceType": "CapabilityStatement",
        "url": f"{base_url}metadata",
        "name": "SamhandlingDirectory",
        "title": "Samhandling service directory and care pathways",
        "status": "active",
        "date": timezone.localdate().isoformat(),
        "publisher": "Samhandling",
        "kind": "instance",
        "software": {"name": "Samhandling", "version": _software_version()},
        "implementation": {
            "description": "Samhandling service directory and care pathways (open, no login)",
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
                        "searchParam": _search_params(HEALTHCARESERVICE_PARAMS),
                    },
                    {"type": "Organization", "interaction": [{"code": "read"}]},
                    {
                        "type": "PlanDefinition",
                        "profile": "http://hl7.org/fhir/StructureDefinition/PlanDefinition",
                        "documentation": (
                            "Care pathways (samhandlingsforløp), published versions only. The id "
                            "is the pathway's short name for the national base version, and "
                            "<short name>--<kommunenummer> for the pathway as read in a "
                            "municipality where published local adaptations apply (e.g. "
                            "worry-anxiety--3901). A search lists both; `municipality` gives "
                            "the version that applies in a municipality."
                        ),
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": _search_params(PLANDEFINITION_PARAMS),
                    },
                ],
            }
        ],
    }

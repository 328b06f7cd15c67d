"""FHIR R4 endpoints of the directory and the care pathways: parse, query, map, answer in
application/fhir+json.

Errors are OperationOutcome resources with the matching status: 400 for a bad search,
404 for an unknown id or path, 405 for anything but GET, 406 for a format other than JSON.
"""

import json
import uuid
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from samhandling.core.models import OrganisationUnit
from samhandling.directory.services.hsds import organization_hsds_id
from samhandling.fhir.capability import capability_statement
from samhandling.fhir.mapping import Context, healthcareservice_resource, organization_resource
from samhandling.fhir.plandefinition import (
    Site,
    candidate_resolve,
    parse_plandefinition_query,
    plandefinition_find,
    plandefinition_matches,
    plandefinition_resource,
)
from samhandling.fhir.search import (
    SearchError,
    check_format,
    healthcareservice_queryset,
    parse_healthcareservice_query,
)

FHIR_JSON = "application/fhir+json; charset=utf-8"


class FhirResponse(HttpResponse):
    def __init__(self, resource: dict, status: int = 200):
        super().__init__(
            json.dumps(resource, ensure_ascii=False), content_type=FHIR_JSON, status=status
        )


def operation_outcome(message: str, *, status: int, code: str) -> FhirResponse:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    return FhirResponse(outcome, status=status)


def _not_found(what: str) -> FhirResponse:
    return operation_outcome(
        _("%(what)s was not found.") % {"what": what}, status=404, code="not-found"
    )


def fhir_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET only, JSON only, and search errors as OperationOutcome."""

    # Nothing here writes, and a POST deserves a FHIR 405 rather than a CSRF page.
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in {"GET", "HEAD"}:
            response = operation_outcome(
                _("Only GET is supported here."), status=405, code="not-supported"
            )
            response["Allow"] = "GET, HEAD"
            return response
        try:
            check_format(request.GET)
            return view(request, *args, **kwargs)
        except SearchError as error:
            return operation_outcome(str(error), status=error.status, code=error.code)

    return wrapper


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")


@fhir_endpoint
def metadata(request: HttpRequest) -> HttpResponse:
    return FhirResponse(capability_statement(base_url=_base_url(request)))


def _searchset(
    request: HttpRequest,
    resource_type: str,
    *,
    echo: list[tuple[str, str]],
    count: int,
    offset: int,
    total: int,
    resources: list[dict],
) -> FhirResponse:
    """A searchset Bundle of one page of matches, with self, first, previous and next links."""
    base = _base_url(request)
    end = offset + count

    def link(relation: str, at: int) -> dict:
        params = [*echo, ("_count", str(count)), ("_offset", str(at))]
        return {"relation": relation, "url": f"{base}{resource_type}?{urlencode(params)}"}

    links = [link("self", offset)]
    if count:
        links.append(link("first", 0))
        if offset > 0:
            links.append(link("previous", max(offset - count, 0)))
        if end < total:
            links.append(link("next", end))
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timezone.now().isoformat(),
        "total": total,
        "link": links,
    }
    if resources:
        bundle["entry"] = [
            {
                "fullUrl": f"{base}{resource_type}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ]
    return FhirResponse(bundle)


@fhir_endpoint
def healthcareservice_search(request: HttpRequest) -> HttpResponse:
    query = parse_healthcareservice_query(request.GET)
    services = healthcareservice_queryset(query)
    total = services.count()
    end = query.offset + query.count
    page = list(services[query.offset : end]) if query.count and query.offset < total else []
    context = Context.now()
    return _searchset(
        request,
        "HealthcareService",
        echo=query.echo,
        count=query.count,
        offset=query.offset,
        total=total,
        resources=[healthcareservice_resource(service, context) for service in page],
    )


@fhir_endpoint
def healthcareservice_read(request: HttpRequest, id: str) -> HttpResponse:
    try:
        code = uuid.UUID(id)
    except ValueError:
        return _not_found(_("HealthcareService %(id)s") % {"id": id[:64]})
    service = healthcareservice_queryset().filter(code=code).first()
    if service is None:
        return _not_found(_("HealthcareService %(id)s") % {"id": id})
    return FhirResponse(healthcareservice_resource(service, Context.now()))


@fhir_endpoint
def organization_read(request: HttpRequest, id: str) -> HttpResponse:
    units = OrganisationUnit.objects.select_related("parent")
    code: str | None = id  # the unit code is accepted too
    try:
        wanted = str(uuid.UUID(id))
    except ValueError:
        pass
    else:
        # The id is derived from the unit code; units are few, so compare them all.
        codes = units.values_list("code", flat=True)
        code = next((c for c in codes if organization_hsds_id(c) == wanted), None)
    unit = units.filter(code=code).first() if code else None
    if unit is None:
        return _not_found(_("Organization %(id)s") % {"id": id[:64]})
    return FhirResponse(organization_resource(unit))


def _site(request: HttpRequest) -> Site:
    return Site.of(fhir_base=_base_url(request), site=request.build_absolute_uri("/")[:-1])


@fhir_endpoint
def plandefinition_search(request: HttpRequest) -> HttpResponse:
    query = parse_plandefinition_query(request.GET)
    matches = plandefinition_matches(query)
    page = matches[query.offset : query.offset + query.count] if query.count else []
    site = _site(request)
    return _searchset(
        request,
        "PlanDefinition",
        echo=query.echo,
        count=query.count,
        offset=query.offset,
        total=len(matches),
        resources=[
            plandefinition_resource(candidate, candidate_resolve(candidate), site)
            for candidate in page
        ],
    )


@fhir_endpoint
def plandefinition_read(request: HttpRequest, id: str) -> HttpResponse:
    candidate = plandefinition_find(id)
    if candidate is None:
        return _not_found(_("PlanDefinition %(id)s") % {"id": id[:64]})
    resource = plandefinition_resource(candidate, candidate_resolve(candidate), _site(request))
    return FhirResponse(resource)


@fhir_endpoint
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return operation_outcome(
        _("This FHIR server has no such endpoint. See /fhir/metadata for what it offers."),
        status=404,
        code="not-found",
    )

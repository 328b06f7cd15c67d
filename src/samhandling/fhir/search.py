"""Search parameters of the FHIR endpoints: parsing, checking, and the query they make.

A parameter given twice must hold both times (AND); commas inside one value mean OR,
as FHIR search defines. Unknown parameters are refused rather than ignored, so that a
misspelt filter never silently returns the whole directory.
"""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality
from samhandling.directory.models import Coverage, Level, OpeningException, Service
from samhandling.fhir.mapping import (
    SEARCH_PARAM_MUNICIPALITY,
    SYSTEM_KOMMUNENUMMER,
    SYSTEM_LEVEL,
)

DEFAULT_COUNT = 50
MAX_COUNT = 500
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}
_NUMBER = re.compile(r"[0-9]{1,9}")
_KOMMUNENUMMER = re.compile(r"[0-9]{4}")


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str
    definition: str
    documentation: str


HEALTHCARESERVICE_PARAMS = [
    SearchParam(
        "municipality",
        "token",
        SEARCH_PARAM_MUNICIPALITY,
        "Services covering the municipality with this kommunenummer (4 digits, system "
        f"{SYSTEM_KOMMUNENUMMER}), national services included. Several numbers separated by "
        "commas: any of them.",
    ),
    SearchParam(
        "service-category",
        "token",
        "http://hl7.org/fhir/SearchParameter/HealthcareService-service-category",
        f"Level of the intervention pyramid: {', '.join(Level.values)} (system {SYSTEM_LEVEL}).",
    ),
    SearchParam(
        "name",
        "string",
        "http://hl7.org/fhir/SearchParameter/HealthcareService-name",
        "Part of the name in bokmål or nynorsk, any case. `name:exact` matches the whole name.",
    ),
    SearchParam(
        "active",
        "token",
        "http://hl7.org/fhir/SearchParameter/HealthcareService-active",
        "true or false.",
    ),
    SearchParam(
        "_id",
        "token",
        "http://hl7.org/fhir/SearchParameter/Resource-id",
        "The service's id (a UUID).",
    ),
]
RESULT_PARAMS = {"_count", "_offset", "_format"}


class SearchError(Exception):
    """A search parameter is unknown or has a value we cannot use."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid"):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class HealthcareServiceQuery:
    filters: list[Q] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0
    # The parameters as understood, for the self link: [(name, value), …].
    echo: list[tuple[str, str]] = field(default_factory=list)


def _values(raw: str) -> list[str]:
    return [v.strip() for v in raw.split(",") if v.strip()]


def _whole_number(name: str, raw: str) -> int:
    if not _NUMBER.fullmatch(raw.strip()):
        raise SearchError(
            _("%(param)s must be a whole number of zero or more, not %(value)s.")
            % {"param": name, "value": _quoted(raw)}
        )
    return int(raw)


def _quoted(raw: str) -> str:
    text = raw if len(raw) <= 40 else raw[:37] + "…"
    return f"“{text}”"


def check_format(params) -> None:
    """Refuse a `_format` other than JSON: the only format served."""
    for raw in params.getlist("_format"):
        if raw.strip() and raw.strip().split(";")[0] not in JSON_FORMATS:
            raise SearchError(
                _("Only JSON is supported, not %(format)s.") % {"format": _quoted(raw)},
                status=406,
                code="not-supported",
            )


def search_values(params, known: set[str], query: Any) -> Iterator[tuple[str, list[str]]]:
    """Check a search's parameter names, set `query.count`/`offset`, yield the other values.

    Each (name, values) pair is one occurrence of a filtering parameter, in name order;
    a parameter without a value is passed over, as FHIR says.
    """
    check_format(params)
    for name in sorted(params):
        if name not in known and name not in RESULT_PARAMS:
            raise SearchError(_("Unknown search parameter %(param)s.") % {"param": _quoted(name)})
        for raw in params.getlist(name):
            if name == "_count":
                query.count = min(_whole_number(name, raw), MAX_COUNT)
            elif name == "_offset":
                query.offset = _whole_number(name, raw)
            elif name != "_format" and (values := _values(raw)):
                yield name, values


def parse_healthcareservice_query(params) -> HealthcareServiceQuery:
    """Read the query string of a HealthcareService search; raise SearchError on bad input."""
    query = HealthcareServiceQuery()
    known = {p.name for p in HEALTHCARESERVICE_PARAMS} | {"name:contains", "name:exact"}
    known_municipalities: set[str] | None = None
    for name, values in search_values(params, known, query):
        if name == "municipality":
            if known_municipalities is None:
                known_municipalities = set(Municipality.objects.values_list("number", flat=True))
            query.filters.append(_municipality_filter(values, known_municipalities))
        elif name == "service-category":
            query.filters.append(Q(level__in=[_level(v) for v in values]))
        elif name == "name" or name == "name:contains":
            either = Q()
            for v in values:
                either |= Q(name_nb__icontains=v) | Q(name_nn__icontains=v)
            query.filters.append(either)
        elif name == "name:exact":
            query.filters.append(Q(name_nb__in=values) | Q(name_nn__in=values))
        elif name == "active":
            query.filters.append(Q(is_active__in=[_boolean(name, v) for v in values]))
        elif name == "_id":
            query.filters.append(Q(code__in=[_uuid(v) for v in values]))
        query.echo.append((name, ",".join(values)))
    return query


def _municipality_filter(values: list[str], known: set[str]) -> Q:
    values = [_without_system(v, SYSTEM_KOMMUNENUMMER, "municipality") for v in values]
    for value in values:
        if not _KOMMUNENUMMER.fullmatch(value):
            raise SearchError(
                _("municipality must be a kommunenummer of 4 digits, not %(value)s.")
                % {"value": _quoted(value)}
            )
        if value not in known:
            raise SearchError(
                _("There is no municipality with number %(value)s.") % {"value": _quoted(value)}
            )
    through = Service.municipalities.through
    covers = through.objects.filter(service_id=OuterRef("pk"), municipality_id__in=values)
    return Q(coverage=Coverage.NATIONAL) | Q(Exists(covers))


def _without_system(value: str, expected: str, name: str) -> str:
    """A token may be `system|code`; the system, if given, must be the one we use."""
    system, _bar, code = value.rpartition("|")
    if system and system != expected:
        raise SearchError(
            _("Unknown code system %(system)s for %(param)s.")
            % {"system": _quoted(system), "param": name}
        )
    return code


def _level(value: str) -> str:
    code = _without_system(value, SYSTEM_LEVEL, "service-category")
    if code not in Level.values:
        raise SearchError(
            _("Unknown service-category %(value)s; use one of %(codes)s.")
            % {"value": _quoted(code), "codes": ", ".join(Level.values)}
        )
    return code


def _boolean(name: str, value: str) -> bool:
    if value not in {"true", "false"}:
        raise SearchError(
            _("%(param)s must be true or false, not %(value)s.")
            % {"param": name, "value": _quoted(value)}
        )
    return value == "true"


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise SearchError(
            _("_id must be a service id (a UUID), not %(value)s.") % {"value": _quoted(value)}
        ) from None


def healthcareservice_queryset(query: HealthcareServiceQuery | None = None) -> QuerySet[Service]:
    """Services matching the query, in a stable order, with what the mapping reads prefetched."""
    services = Service.objects.select_related("unit").prefetch_related(
        "municipalities",
        "needs",
        "hours",
        Prefetch(
            "exceptions",
            queryset=OpeningException.objects.filter(date__gte=timezone.localdate()),
        ),
    )
    for condition in query.filters if query else []:
        services = services.filter(condition)
    return services.order_by("name_nb", "code")

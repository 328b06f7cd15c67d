"""JSON API of the service directory: /api/v1/services and /api/v1/services/{code}."""

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError, ValidationError
from ninja.responses import NinjaJSONEncoder

from samhandling.directory.models import (
    LEVEL_COLOURS,
    Channel,
    Coverage,
    Level,
    Service,
)
from samhandling.directory.services.opening import local_moment, service_opening_status
from samhandling.directory.services.search import SearchFilters, attach_links, search_page

router = Router(tags=["services"])

MAX_LIMIT = 100
EXCEPTION_DAYS = 366  # the API lists the coming year's exceptions, not only the next two weeks


# --- schemas ----------------------------------------------------------------------------


class Texts(Schema):
    nb: str = Field(description="Bokmål.")
    nn: str = Field(description="Nynorsk; empty when not written.")


class LevelOut(Schema):
    code: Level
    name: str
    colour: str = Field(description="Map colour of the level, #rrggbb.")


class MunicipalityOut(Schema):
    number: str = Field(description="Kommunenummer (2024 structure).")
    name: str


class Ages(Schema):
    min: int
    max: int


class NeedOut(Schema):
    code: str
    name_nb: str
    name_nn: str
    name_en: str


class ContactOut(Schema):
    phone: str
    sms: str
    email: str
    website: str
    chat_url: str


class AddressOut(Schema):
    street: str
    postal_code: str
    city: str


class Coordinates(Schema):
    latitude: Decimal
    longitude: Decimal


class WeeklyHours(Schema):
    weekday: int = Field(description="0 = Monday … 6 = Sunday.")
    opens: dt.time
    closes: dt.time = Field(description="Exclusive: closed from this time on.")


class ExceptionOut(Schema):
    date: dt.date
    closed: bool
    opens: dt.time | None
    closes: dt.time | None
    note: str


class OpeningHoursOut(Schema):
    always_open: bool
    open_on_holidays: bool = Field(description="If false, closed on Norwegian public holidays.")
    weekly: list[WeeklyHours]
    exceptions: list[ExceptionOut] = Field(
        description="Coming dates that replace the weekly hours (local time, Europe/Oslo)."
    )


class ServiceOut(Schema):
    code: uuid.UUID
    names: Texts
    descriptions: Texts
    how_to: Texts
    level: LevelOut
    colour: str
    coverage: Coverage
    municipalities: list[MunicipalityOut] = Field(description="Empty for national services.")
    ages: Ages
    needs: list[NeedOut]
    channels: list[Channel]
    referral_required: bool
    referrers: list[str]
    contact: ContactOut
    address: AddressOut
    coordinates: Coordinates | None
    opening_hours: OpeningHoursOut
    open_now: bool
    next_opening: dt.datetime | None = Field(
        description="When it next opens, if closed now and opening within two weeks."
    )
    last_verified: dt.date | None
    is_demo: bool
    url: str = Field(description="The public page of the service.")


class ServiceList(Schema):
    total: int = Field(description="How many services match, over all pages.")
    limit: int
    offset: int
    items: list[ServiceOut]


class ErrorDetail(Schema):
    loc: list[str]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[ErrorDetail]


class NotFoundOut(Schema):
    detail: str


class ServiceQuery(Schema):
    municipality: str | None = Field(
        None, description="Kommunenummer; national services match every municipality."
    )
    age: int | None = Field(None, description="Age in years, 0–120.")
    need: list[str] = Field(
        default_factory=list, description="Need codes; the service serves at least one."
    )
    level: list[Level] = Field(default_factory=list)
    channel: list[Channel] = Field(
        default_factory=list, description="The service offers at least one."
    )
    no_referral: bool = Field(False, description="Only services that need no referral.")
    open_now: bool = Field(False, description="Only services open now (Europe/Oslo).")
    q: str = Field("", max_length=200, description="Text in the name, bokmål or nynorsk.")
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


# --- serialisation ----------------------------------------------------------------------


def _rows(service: Service, name: str) -> Any:
    """The rows the search attached as tuples, else the prefetched ones (one service)."""
    linked = getattr(service, f"linked_{name}", None)
    return linked if linked is not None else getattr(service, name).all()


def _service_out(
    request: HttpRequest, service: Service, at: dt.datetime, *, site: str = ""
) -> dict[str, Any]:
    status = service_opening_status(service=service, at=at)
    national = service.coverage == Coverage.NATIONAL
    has_point = service.latitude is not None and service.longitude is not None
    today = local_moment(at).date()
    return {
        "code": service.code,
        "names": {"nb": service.name_nb, "nn": service.name_nn},
        "descriptions": {"nb": service.description_nb, "nn": service.description_nn},
        "how_to": {"nb": service.how_to_nb, "nn": service.how_to_nn},
        "level": {
            "code": service.level,
            "name": str(Level(service.level).label),
            "colour": LEVEL_COLOURS[service.level],
        },
        "colour": LEVEL_COLOURS[service.level],
        "coverage": service.coverage,
        "municipalities": []
        if national
        else [{"number": m.number, "name": m.name} for m in service.linked_municipalities],
        "ages": {"min": service.age_min, "max": service.age_max},
        "needs": [
            {"code": n.code, "name_nb": n.name_nb, "name_nn": n.name_nn, "name_en": n.name_en}
            for n in service.linked_needs
        ],
        "channels": service.channels(),
        "referral_required": service.referral_required,
        "referrers": list(service.referrers or []),
        "contact": {
            "phone": service.phone,
            "sms": service.sms_number,
            "email": service.email,
            "website": service.website,
            "chat_url": service.chat_url,
        },
        "address": {
            "street": service.street_address,
            "postal_code": service.postal_code,
            "city": service.city,
        },
        "coordinates": {"latitude": service.latitude, "longitude": service.longitude}
        if has_point
        else None,
        "opening_hours": {
            "always_open": service.always_open,
            "open_on_holidays": service.open_on_holidays,
            "weekly": [
                {"weekday": h.weekday, "opens": h.opens, "closes": h.closes}
                for h in _rows(service, "hours")
            ],
            "exceptions": [
                {
                    "date": e.date,
                    "closed": e.closed,
                    "opens": e.opens,
                    "closes": e.closes,
                    "note": e.note,
                }
                for e in _rows(service, "exceptions")
                if today <= e.date <= today + dt.timedelta(days=EXCEPTION_DAYS)
            ],
        },
        "open_now": status.is_open,
        "next_opening": status.next_opening,
        "last_verified": service.last_verified,
        "is_demo": service.is_demo,
        "url": (site or request.build_absolute_uri("/")[:-1])
        + reverse("directory:service-detail", args=[service.code]),
    }


# --- endpoints --------------------------------------------------------------------------


def _list(request: HttpRequest, query: ServiceQuery) -> HttpResponse:
    at = timezone.now()
    filters = SearchFilters(
        municipality=query.municipality or None,
        age=query.age,
        needs=list(dict.fromkeys(query.need)),
        levels=[str(level) for level in query.level],
        channels=[str(channel) for channel in query.channel],
        no_referral=query.no_referral,
        open_now=query.open_now,
        q=query.q.strip(),
    )
    errors = filters.validate()
    if errors:
        keys = {"needs": "need", "levels": "level", "channels": "channel"}
        raise ValidationError(
            [
                {"loc": ["query", keys.get(name, name)], "msg": message, "type": "value_error"}
                for name, message in errors.items()
            ]
        )
    found = search_page(
        filters=filters,
        at=at,
        offset=query.offset,
        limit=query.limit,
        exception_days=EXCEPTION_DAYS,
    )
    site = request.build_absolute_uri("/")[:-1]
    payload = {
        "total": found.total,
        "limit": query.limit,
        "offset": query.offset,
        "items": [_service_out(request, service, at, site=site) for service in found.services],
    }
    # The payload is built to match ServiceList exactly (tests validate it against the
    # schema), so it is rendered as it is: validating our own output again on every search
    # cost a third of the request.
    return HttpResponse(
        json.dumps(payload, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8"
    )


@router.get(
    "",
    response={200: ServiceList, 422: ValidationErrorOut},
    summary="Search services",
    description="Active services matching every given filter, by pyramid level then name.",
)
def services_list(request: HttpRequest, query: Query[ServiceQuery]) -> HttpResponse:
    """Search services; 422 names each refused filter."""
    return _list(request, query)


@router.get(
    "/",
    response={200: ServiceList, 422: ValidationErrorOut},
    include_in_schema=False,
    url_name="services_list_slash",
)
def services_list_slash(request: HttpRequest, query: Query[ServiceQuery]) -> HttpResponse:
    return _list(request, query)


def _detail(request: HttpRequest, code: str) -> dict[str, Any]:
    try:
        parsed = uuid.UUID(code)
    except ValueError:
        parsed = None
    service = (
        Service.objects.filter(code=parsed, is_active=True)
        .prefetch_related("hours", "exceptions")
        .first()
        if parsed
        else None
    )
    if service is None:
        raise HttpError(404, _("No active service has this code."))
    attach_links([service])
    return _service_out(request, service, timezone.now())


CodePath = Annotated[str, Field(description="The service's code, a UUID.")]


@router.get(
    "/{code}",
    response={200: ServiceOut, 404: NotFoundOut},
    summary="One service",
)
def services_detail(request: HttpRequest, code: CodePath) -> dict[str, Any]:
    """One active service by its code; 404 if there is none."""
    return _detail(request, code)


@router.get(
    "/{code}/",
    response={200: ServiceOut, 404: NotFoundOut},
    include_in_schema=False,
    url_name="services_detail_slash",
)
def services_detail_slash(request: HttpRequest, code: CodePath) -> dict[str, Any]:
    return _detail(request, code)

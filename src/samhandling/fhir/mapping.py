"""Directory models as FHIR R4 resources: plain dicts that parse with fhir.resources' R4B models.

HealthcareService
  identifier      SYSTEM_SERVICE | Service.code (also the resource id)
  active          is_active
  providedBy      Organization/<id of the unit> (see `organization_resource`)
  category        the pyramid level (SYSTEM_LEVEL)
  specialty       the needs served (SYSTEM_NEED)
  characteristic  the ways in: drop-in, phone, SMS, chat, web form (SYSTEM_CHANNEL)
  name, comment, extraDetails   name, description and how to get in touch (bokmål)
  telecom         phone, SMS, email, website, chat address
  location        a contained Location with the address and position
  coverageArea    contained Locations, one per municipality covered, identified by kommunenummer
                  (urn:oid:2.16.578.1.12.4.1.1.3402); national services cover "Norge"
  serviceProvisionCode  referral required or not (SYSTEM_REFERRAL)
  referralMethod  who may refer (SYSTEM_REFERRER)
  eligibility     the age range
  availableTime   the weekly hours; every day all day when open around the clock
  notAvailable    upcoming closed days, and upcoming public holidays unless open on them
  availabilityExceptions  the same in words, with days open at other times than usual

No extensions are used. Texts the platform writes (displays, descriptions) follow the active
language; the service's own texts are the bokmål ones.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import holidays
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from samhandling.core.models import OrganisationUnit, UnitKind
from samhandling.directory.models import Channel, Coverage, Level, Referrer, Service
from samhandling.directory.services.hsds import organization_hsds_id

SYSTEM_SERVICE = "urn:samhandling:service"
SYSTEM_UNIT = "urn:samhandling:unit"
SYSTEM_LEVEL = "urn:samhandling:CodeSystem:pyramid-level"
SYSTEM_NEED = "urn:samhandling:CodeSystem:need"
SYSTEM_CHANNEL = "urn:samhandling:CodeSystem:channel"
SYSTEM_REFERRER = "urn:samhandling:CodeSystem:referrer"
SYSTEM_REFERRAL = "urn:samhandling:CodeSystem:referral-requirement"
SYSTEM_ELIGIBILITY = "urn:samhandling:CodeSystem:eligibility"
SYSTEM_UNIT_KIND = "urn:samhandling:CodeSystem:unit-kind"
# Volven 3402, Norway's kommunenummer; and Enhetsregisteret's organisasjonsnummer.
SYSTEM_KOMMUNENUMMER = "urn:oid:2.16.578.1.12.4.1.1.3402"
SYSTEM_ORGNR = "urn:oid:2.16.578.1.12.4.1.4.101"
SYSTEM_PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
SEARCH_PARAM_MUNICIPALITY = "urn:samhandling:SearchParameter:HealthcareService-municipality"

FHIR_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# How far ahead notAvailable lists closed days and public holidays.
HORIZON_DAYS = 365


@dataclass(frozen=True)
class Context:
    """What every resource of one response shares: today and the public holidays ahead."""

    today: dt.date
    holidays: list[tuple[dt.date, str]]

    @classmethod
    def now(cls) -> "Context":
        today = timezone.localdate()
        until = today + dt.timedelta(days=HORIZON_DAYS)
        language = "en_US" if (get_language() or "nb").startswith("en") else "no"
        calendar = holidays.Norway(
            years=range(today.year, until.year + 1), include_sundays=False, language=language
        )
        ahead = sorted((day, name) for day, name in calendar.items() if today <= day <= until)
        return cls(today=today, holidays=ahead)


def _coding(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _time(value: dt.time) -> str:
    return value.strftime("%H:%M:%S")


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _drop_empty(resource: dict) -> dict:
    """FHIR forbids empty strings, lists and objects; leave such elements out."""
    return {k: v for k, v in resource.items() if v not in ("", [], {}, None)}


def organization_id(unit: OrganisationUnit) -> str:
    """The FHIR id of a unit: the same stable UUID its HSDS organization carries."""
    return organization_hsds_id(unit.code)


def organization_reference(unit: OrganisationUnit) -> dict:
    return {"reference": f"Organization/{organization_id(unit)}", "display": unit.name}


def organization_resource(unit: OrganisationUnit) -> dict:
    """An organisation unit as a FHIR Organization."""
    identifiers = [{"system": SYSTEM_UNIT, "value": unit.code}]
    if unit.organisation_number:
        identifiers.append({"system": SYSTEM_ORGNR, "value": unit.organisation_number})
    resource = {
        "resourceType": "Organization",
        "id": organization_id(unit),
        "identifier": identifiers,
        "active": True,
        "type": [_coding(SYSTEM_UNIT_KIND, unit.kind, str(UnitKind(unit.kind).label))],
        "name": unit.name,
    }
    if unit.parent is not None:
        resource["partOf"] = organization_reference(unit.parent)
    return _drop_empty(resource)


def healthcareservice_resource(service: Service, context: Context) -> dict:
    """A service as a FHIR HealthcareService (expects its relations prefetched)."""
    code = str(service.code)
    contained, coverage = _coverage(service)
    place = _place(service)
    if place:
        contained.insert(0, place)
    level = str(Level(service.level).label)
    needs = sorted(service.needs.all(), key=lambda n: (n.sort_order, n.code))
    resource = {
        "resourceType": "HealthcareService",
        "id": code,
        "meta": {"lastUpdated": _instant(service.updated_at)} if service.updated_at else None,
        "contained": contained,
        "identifier": [{"system": SYSTEM_SERVICE, "value": code}],
        "active": service.is_active,
        "providedBy": organization_reference(service.unit),
        "category": [_coding(SYSTEM_LEVEL, service.level, level)],
        "specialty": [_coding(SYSTEM_NEED, n.code, n.name) for n in needs],
        "location": [{"reference": "#place"}] if place else [],
        "name": service.name_nb,
        "comment": service.description_nb.strip(),
        "extraDetails": service.how_to_nb.strip(),
        "telecom": _telecom(service),
        "coverageArea": coverage,
        "serviceProvisionCode": [_referral(service)],
        "eligibility": [_ages(service)],
        "characteristic": [
            _coding(SYSTEM_CHANNEL, c, str(Channel(c).label)) for c in service.channels()
        ],
        "referralMethod": [
            _coding(SYSTEM_REFERRER, r, str(Referrer(r).label))
            for r in service.referrers
            if r in Referrer.values
        ],
        "availableTime": _available(service),
        "notAvailable": _not_available(service, context),
        "availabilityExceptions": _exceptions_text(service, context),
    }
    return _drop_empty(resource)


def _place(service: Service) -> dict | None:
    address = _drop_empty(
        {
            "use": "work",
            "type": "physical",
            "line": [service.street_address] if service.street_address else [],
            "postalCode": service.postal_code,
            "city": service.city,
            "country": "NO",
        }
    )
    has_address = bool(service.street_address or service.postal_code or service.city)
    has_position = service.latitude is not None and service.longitude is not None
    if not (has_address or has_position):
        return None
    place = _drop_empty({"resourceType": "Location", "id": "place", "name": service.name_nb})
    if has_address:
        place["address"] = address
    if has_position:
        place["position"] = {
            "latitude": float(service.latitude),
            "longitude": float(service.longitude),
        }
    return place


def _jurisdiction() -> dict:
    return {"coding": [{"system": SYSTEM_PHYSICAL_TYPE, "code": "jdn", "display": "Jurisdiction"}]}


def _coverage(service: Service) -> tuple[list[dict], list[dict]]:
    if service.coverage == Coverage.NATIONAL:
        norway = {
            "resourceType": "Location",
            "id": "norway",
            "name": "Norge",
            "mode": "instance",
            "physicalType": _jurisdiction(),
            "address": {"country": "NO"},
        }
        return [norway], [{"reference": "#norway", "display": "Norge"}]
    municipalities = sorted(service.municipalities.all(), key=lambda m: m.number)
    contained = [
        {
            "resourceType": "Location",
            "id": f"kommune-{m.number}",
            "identifier": [{"system": SYSTEM_KOMMUNENUMMER, "value": m.number}],
            "name": m.name,
            "mode": "instance",
            "physicalType": _jurisdiction(),
        }
        for m in municipalities
    ]
    references = [{"reference": f"#kommune-{m.number}", "display": m.name} for m in municipalities]
    return contained, references


def _telecom(service: Service) -> list[dict]:
    points = [
        ("phone", service.phone),
        ("sms", service.sms_number),
        ("email", service.email),
        ("url", service.website),
        ("url", service.chat_url),
    ]
    return [
        {"system": system, "value": value.strip(), "use": "work"}
        for system, value in points
        if value.strip()
    ]


def _referral(service: Service) -> dict:
    if service.referral_required:
        return _coding(SYSTEM_REFERRAL, "referral-required", _("Referral required"))
    return _coding(SYSTEM_REFERRAL, "no-referral-required", _("No referral needed"))


def _ages(service: Service) -> dict:
    text = _("Ages %(youngest)s to %(oldest)s.") % {
        "youngest": service.age_min,
        "oldest": service.age_max,
    }
    return {
        "code": {
            "coding": [{"system": SYSTEM_ELIGIBILITY, "code": "age-range"}],
            "text": f"{service.age_min}–{service.age_max}",
        },
        "comment": text,
    }


def _available(service: Service) -> list[dict]:
    if service.always_open:
        return [{"daysOfWeek": FHIR_DAYS, "allDay": True}]
    days_by_interval: dict[tuple[dt.time, dt.time], set[int]] = {}
    for hours in service.hours.all():
        days_by_interval.setdefault((hours.opens, hours.closes), set()).add(hours.weekday)
    return [
        {
            "daysOfWeek": [FHIR_DAYS[d] for d in sorted(days)],
            "availableStartTime": _time(opens),
            "availableEndTime": _time(closes),
        }
        for (opens, closes), days in sorted(
            days_by_interval.items(), key=lambda item: (min(item[1]), item[0])
        )
    ]


def _upcoming(service: Service, context: Context) -> Iterable:
    return sorted(
        (e for e in service.exceptions.all() if e.date >= context.today),
        key=lambda e: (e.date, e.opens or dt.time.min),
    )


def _not_available(service: Service, context: Context) -> list[dict]:
    closed: dict[dt.date, str] = {}
    for exception in _upcoming(service, context):
        if exception.closed:
            closed[exception.date] = exception.note.strip() or _("Closed.")
    if not service.open_on_holidays:
        for day, name in context.holidays:
            closed.setdefault(day, name)
    return [
        {"description": text, "during": {"start": day.isoformat(), "end": day.isoformat()}}
        for day, text in sorted(closed.items())
    ]


def _exceptions_text(service: Service, context: Context) -> str:
    sentences = []
    if not service.open_on_holidays:
        sentences.append(_("Closed on Norwegian public holidays."))
    for exception in _upcoming(service, context):
        day = formats.date_format(exception.date, "SHORT_DATE_FORMAT")
        if exception.closed:
            sentences.append(_("Closed %(date)s.") % {"date": day})
        else:
            sentences.append(
                _("Open %(date)s from %(opens)s to %(closes)s.")
                % {
                    "date": day,
                    "opens": exception.opens.strftime("%H:%M"),
                    "closes": exception.closes.strftime("%H:%M"),
                }
            )
    return " ".join(sentences)

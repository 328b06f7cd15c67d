"""Open Referral HSDS 3.0 export and import of the service directory.

The document
------------
One JSON object (its JSON Schema is `directory/data/hsds-3.0-samhandling.schema.json`)::

    {
      "version": "3.0",
      "profile": "urn:samhandling:hsds-profile:1",
      "organizations": [organization, …],     # the providing units and their ancestors
      "taxonomies": [taxonomy, …],           # our vocabularies, see below
      "taxonomy_terms": [taxonomy_term, …],
      "services": [service, …]               # HSDS "service with full details", see below
    }

Each service is nested the way HSDS 3.0 nests a service with full details (`phones`,
`schedules`, `service_areas`, `service_at_locations` → `location` → `addresses`,
`attributes`), except that it points to its organization by `organization_id` and each
attribute to its term by `taxonomy_term_id`, both resolved in the top-level arrays, instead
of repeating those objects. Times are local Norwegian time (Europe/Oslo); HSDS' numeric UTC
offset cannot express summer time, so `timezone` is left out.

HSDS fields used
----------------
service: `id` = Service.code (UUID), `organization_id`, `name` = name_nb, `description` =
description_nb, `application_process` = how_to_nb, `url` = website, `email`, `status`
(active / inactive), `minimum_age` / `maximum_age`, `assured_date` = last_verified,
`last_modified` = updated_at (kept on import).
phones: `type` "voice" = phone, "text" = SMS number.
schedules: the weekly pattern as `freq` WEEKLY + `byday` + `opens_at`/`closes_at` (one
schedule per opening interval, days with the same interval together); each exception as a
one-day schedule with `valid_from` = `valid_to` = `dtstart` = the date, `opens_at`/`closes_at`
when open at other times, neither when closed all day (plus the flag "closed"), `notes` = note.
service_areas: one per municipality covered, `name` = the municipality's name, the
kommunenummer in the attribute samhandling:property "kommunenummer".
service_at_locations: a "physical" location with the address (`address_1` street,
`postal_code`, `city`, `country` NO) and `latitude`/`longitude`; a "virtual" location whose
`url` is the chat address.
organization: `id` = uuid5 of the unit code (see `organization_hsds_id`), `name`,
`parent_organization_id`, `organization_identifiers` (scheme NO-BRC = organisasjonsnummer).

Our own taxonomies (what HSDS has no field for)
-----------------------------------------------
Attributes link an object to a term of one of these taxonomies; a term's `code` is ours.

- samhandling:level — the intervention pyramid level (service, exactly one)
- samhandling:coverage — municipal / regional / national (service, exactly one)
- samhandling:need — the needs served (service, any; codes from the needs list)
- samhandling:channel — drop-in, phone, SMS, chat, web form offered (service, any)
- samhandling:referrer — who may refer, in the stored order (service, any)
- samhandling:unit-kind — the kind of organisation unit (organization, exactly one)
- samhandling:flag — true when present: "referral-required", "always-open",
  "open-on-holidays", "demo" (service); "closed" (schedule)
- samhandling:property — the attribute's `value` carries the data: "name-nn",
  "description-nn", "how-to-nn" (service, the nynorsk texts); "unit-code" (organization,
  exactly one: the unit's code); "kommunenummer" (organization: municipalities it serves;
  service_area: exactly one)

Import checks the whole document before writing and raises `HsdsError` naming the first
problem and where (`services[3].schedules[0].opens_at: "25:00" is not a time`); then it creates
or updates units by code and services by id in one transaction, replacing each imported
service's municipalities, needs, weekly hours and exceptions.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator, validate_slug
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from jsonschema import Draft202012Validator

from samhandling.core.models import Municipality, OrganisationUnit, UnitKind
from samhandling.directory.models import (
    Channel,
    Coverage,
    Level,
    Need,
    OpeningException,
    OpeningHours,
    Referrer,
    Service,
)
from samhandling.directory.services.editing import service_record_import

HSDS_VERSION = "3.0"
PROFILE = "urn:samhandling:hsds-profile:1"
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "data" / "hsds-3.0-samhandling.schema.json"
# A file this large is not a directory export; refuse it before parsing.
MAX_BYTES = 50 * 1024 * 1024
ORGNR_SCHEME = "NO-BRC"
COUNTRY = "NO"

# Ids of everything but services and units are derived from this, so an export is stable.
_NAMESPACE = uuid.UUID("8a0b5d0e-4a57-4c83-9f3e-2f1c6f3b9d41")

T_LEVEL = "samhandling:level"
T_COVERAGE = "samhandling:coverage"
T_NEED = "samhandling:need"
T_CHANNEL = "samhandling:channel"
T_REFERRER = "samhandling:referrer"
T_UNIT_KIND = "samhandling:unit-kind"
T_FLAG = "samhandling:flag"
T_PROPERTY = "samhandling:property"

TAXONOMIES: dict[str, str] = {
    T_LEVEL: "Level of the intervention pyramid (tiltakspyramiden).",
    T_COVERAGE: "Whether a service covers municipalities, a region or the whole country.",
    T_NEED: "Needs and topics a service helps with.",
    T_CHANNEL: "Ways to get in touch that a service offers.",
    T_REFERRER: "Who may refer to a service.",
    T_UNIT_KIND: "Kind of organisation unit.",
    T_FLAG: "Yes/no facts: the fact holds when the attribute is present.",
    T_PROPERTY: "Facts HSDS has no field for; the attribute's value carries the data.",
}

# flag code → (Service field, description)
SERVICE_FLAGS: dict[str, tuple[str, str]] = {
    "referral-required": ("referral_required", "A referral is required."),
    "always-open": ("always_open", "Open around the clock."),
    "open-on-holidays": ("open_on_holidays", "Open on Norwegian public holidays."),
    "demo": ("is_demo", "Fictional entry shipped with the demo."),
}
FLAG_CLOSED = "closed"
# property code → (Service field, description)
SERVICE_TEXTS: dict[str, tuple[str, str]] = {
    "name-nn": ("name_nn", "Name in nynorsk."),
    "description-nn": ("description_nn", "Description in nynorsk."),
    "how-to-nn": ("how_to_nn", "How to get in touch, in nynorsk."),
}
P_KOMMUNENUMMER = "kommunenummer"
P_UNIT_CODE = "unit-code"
PROPERTIES: dict[str, str] = {
    **{code: text for code, (_, text) in SERVICE_TEXTS.items()},
    P_KOMMUNENUMMER: "Kommunenummer (4 digits) of a municipality served.",
    P_UNIT_CODE: "Code of the organisation unit in Samhandling.",
}

ENTITY_SERVICE = "service"
ENTITY_ORGANIZATION = "organization"
ENTITY_SCHEDULE = "schedule"
ENTITY_SERVICE_AREA = "service_area"

# Which terms may be attached to which kind of object (None: any term of the taxonomy).
ALLOWED_TERMS: dict[str, dict[str, set[str] | None]] = {
    ENTITY_SERVICE: {
        T_LEVEL: None,
        T_COVERAGE: None,
        T_NEED: None,
        T_CHANNEL: None,
        T_REFERRER: None,
        T_FLAG: set(SERVICE_FLAGS),
        T_PROPERTY: set(SERVICE_TEXTS),
    },
    ENTITY_ORGANIZATION: {T_UNIT_KIND: None, T_PROPERTY: {P_UNIT_CODE, P_KOMMUNENUMMER}},
    ENTITY_SCHEDULE: {T_FLAG: {FLAG_CLOSED}},
    ENTITY_SERVICE_AREA: {T_PROPERTY: {P_KOMMUNENUMMER}},
}

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS_4 = re.compile(r"[0-9]{4}")
_DIGITS_9 = re.compile(r"[0-9]{9}")
_COORDINATE = Decimal("0.000001")


class HsdsError(Exception):
    """The HSDS document is malformed or inconsistent; nothing was imported."""


@dataclass(frozen=True)
class HsdsImportResult:
    services_created: int
    services_updated: int
    units_created: int
    units_updated: int


def organization_hsds_id(code: str) -> str:
    """The HSDS organization id of a unit: stable, derived from the unit code."""
    return _id("organization", code)


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


# --- vocabulary ---------------------------------------------------------------------------


def _vocabulary() -> dict[str, list[tuple[str, str, str]]]:
    """Every taxonomy's terms as (code, name, description), in English."""
    with translation.override("en"):
        return {
            T_LEVEL: [(c, str(n), str(n)) for c, n in Level.choices],
            T_COVERAGE: [(c, str(n), str(n)) for c, n in Coverage.choices],
            T_NEED: [(n.code, n.name_en, f"{n.name_nb} / {n.name_nn}") for n in Need.objects.all()],
            T_CHANNEL: [(c, str(n), str(n)) for c, n in Channel.choices],
            T_REFERRER: [(c, str(n), str(n)) for c, n in Referrer.choices],
            T_UNIT_KIND: [(c, str(n), str(n)) for c, n in UnitKind.choices],
            T_FLAG: [
                *((c, c, text) for c, (_, text) in SERVICE_FLAGS.items()),
                (FLAG_CLOSED, FLAG_CLOSED, "Closed all day on this date."),
            ],
            T_PROPERTY: [(c, c, text) for c, text in PROPERTIES.items()],
        }


def _taxonomy_id(name: str) -> str:
    return _id("taxonomy", name)


def _term_id(taxonomy: str, code: str) -> str:
    return _id("taxonomy_term", taxonomy, code)


# --- export -------------------------------------------------------------------------------


def hsds_export(*, services: Iterable[Service] | None = None) -> dict:
    """The services (default: all) and their units, with ancestors, as one HSDS 3.0 document."""
    if services is None:
        queryset = Service.objects.all()
    elif isinstance(services, QuerySet):
        queryset = Service.objects.filter(pk__in=services.values("pk"))
    else:
        queryset = Service.objects.filter(pk__in=[s.pk for s in services])
    rows = sorted(
        queryset.select_related("unit").prefetch_related(
            "municipalities", "needs", "hours", "exceptions"
        ),
        key=lambda s: str(s.code),
    )
    vocabulary = _vocabulary()
    units = _units_with_ancestors(rows)
    codes = {u.pk: u.code for u in units}
    return {
        "version": HSDS_VERSION,
        "profile": PROFILE,
        "organizations": [_organization_doc(u, codes) for u in units],
        "taxonomies": [
            {
                "id": _taxonomy_id(name),
                "name": name,
                "description": description,
                "version": "1",
            }
            for name, description in TAXONOMIES.items()
        ],
        "taxonomy_terms": [
            {
                "id": _term_id(name, code),
                "code": code,
                "name": term_name,
                "description": description,
                "taxonomy": name,
                "taxonomy_id": _taxonomy_id(name),
            }
            for name, terms in vocabulary.items()
            for code, term_name, description in terms
        ],
        "services": [_service_doc(s) for s in rows],
    }


def _units_with_ancestors(services: list[Service]) -> list[OrganisationUnit]:
    units: dict[int, OrganisationUnit] = {}
    wanted = {s.unit_id for s in services}
    while wanted:
        found = OrganisationUnit.objects.filter(pk__in=wanted).prefetch_related("municipalities")
        for unit in found:
            units[unit.pk] = unit
        wanted = {u.parent_id for u in found if u.parent_id} - set(units)
    return sorted(units.values(), key=lambda u: u.code)


def _attribute(link_id: str, entity: str, index: int, taxonomy: str, code: str, value=None):
    doc = {
        "id": _id("attribute", link_id, str(index)),
        "link_id": link_id,
        "link_entity": entity,
        "taxonomy_term_id": _term_id(taxonomy, code),
    }
    if value is not None:
        doc["value"] = value
    return doc


def _attributes(link_id: str, entity: str, terms: list[tuple[str, str, str | None]]) -> list:
    return [
        _attribute(link_id, entity, i, taxonomy, code, value)
        for i, (taxonomy, code, value) in enumerate(terms)
    ]


def _organization_doc(unit: OrganisationUnit, codes: dict[int, str]) -> dict:
    oid = organization_hsds_id(unit.code)
    terms: list[tuple[str, str, str | None]] = [
        (T_PROPERTY, P_UNIT_CODE, unit.code),
        (T_UNIT_KIND, unit.kind, None),
    ]
    terms += [
        (T_PROPERTY, P_KOMMUNENUMMER, number)
        for number in sorted(m.number for m in unit.municipalities.all())
    ]
    doc: dict[str, Any] = {"id": oid, "name": unit.name, "description": ""}
    if unit.parent_id:
        doc["parent_organization_id"] = organization_hsds_id(codes[unit.parent_id])
    if unit.organisation_number:
        doc["organization_identifiers"] = [
            {
                "id": _id("organization_identifier", oid),
                "organization_id": oid,
                "identifier_scheme": ORGNR_SCHEME,
                "identifier_type": "Organisasjonsnummer",
                "identifier": unit.organisation_number,
            }
        ]
    doc["attributes"] = _attributes(oid, ENTITY_ORGANIZATION, terms)
    return doc


def _time(value: dt.time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _utc_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _service_doc(service: Service) -> dict:
    sid = str(service.code)
    municipalities = sorted(service.municipalities.all(), key=lambda m: m.number)
    doc: dict[str, Any] = {
        "id": sid,
        "organization_id": organization_hsds_id(service.unit.code),
        "name": service.name_nb,
        "description": service.description_nb,
        "application_process": service.how_to_nb,
        "status": "active" if service.is_active else "inactive",
        "minimum_age": service.age_min,
        "maximum_age": service.age_max,
    }
    if service.website:
        doc["url"] = service.website
    if service.email:
        doc["email"] = service.email
    if service.last_verified:
        doc["assured_date"] = service.last_verified.isoformat()
    if service.updated_at:
        doc["last_modified"] = _utc_text(service.updated_at)
    doc["phones"] = [
        {"id": _id("phone", sid, kind), "service_id": sid, "number": number, "type": kind}
        for kind, number in (("voice", service.phone), ("text", service.sms_number))
        if number
    ]
    doc["schedules"] = _schedules_doc(service)
    doc["service_areas"] = [
        {
            "id": _id("service_area", sid, m.number),
            "service_id": sid,
            "name": m.name,
            "attributes": [
                _attribute(
                    _id("service_area", sid, m.number),
                    ENTITY_SERVICE_AREA,
                    0,
                    T_PROPERTY,
                    P_KOMMUNENUMMER,
                    m.number,
                )
            ],
        }
        for m in municipalities
    ]
    doc["service_at_locations"] = _locations_doc(service, municipalities)
    terms: list[tuple[str, str, str | None]] = [
        (T_LEVEL, service.level, None),
        (T_COVERAGE, service.coverage, None),
    ]
    needs = sorted(service.needs.all(), key=lambda n: (n.sort_order, n.code))
    terms += [(T_NEED, n.code, None) for n in needs]
    terms += [(T_CHANNEL, c, None) for c in service.channels()]
    terms += [(T_REFERRER, r, None) for r in service.referrers]
    terms += [(T_FLAG, c, None) for c, (f, _) in SERVICE_FLAGS.items() if getattr(service, f)]
    terms += [
        (T_PROPERTY, c, getattr(service, f))
        for c, (f, _) in SERVICE_TEXTS.items()
        if getattr(service, f)
    ]
    doc["attributes"] = _attributes(sid, ENTITY_SERVICE, terms)
    return doc


def _schedules_doc(service: Service) -> list[dict]:
    sid = str(service.code)
    days_by_interval: dict[tuple[dt.time, dt.time], set[int]] = {}
    for hours in service.hours.all():
        days_by_interval.setdefault((hours.opens, hours.closes), set()).add(hours.weekday)
    weekly = sorted(
        ((sorted(days), opens, closes) for (opens, closes), days in days_by_interval.items()),
        key=lambda item: (item[0][0], item[1], item[2]),
    )
    schedules: list[dict] = [
        {
            "service_id": sid,
            "freq": "WEEKLY",
            "byday": ",".join(WEEKDAYS[d] for d in days),
            "opens_at": _time(opens),
            "closes_at": _time(closes),
        }
        for days, opens, closes in weekly
    ]
    exceptions = sorted(
        service.exceptions.all(),
        key=lambda e: (e.date, e.closed, e.opens or dt.time.min, e.closes or dt.time.min),
    )
    for exception in exceptions:
        day = exception.date.isoformat()
        entry: dict[str, Any] = {
            "service_id": sid,
            "valid_from": day,
            "valid_to": day,
            "dtstart": day,
        }
        if exception.closed:
            entry["description"] = "Closed all day."
        else:
            entry["opens_at"] = _time(exception.opens)
            entry["closes_at"] = _time(exception.closes)
            entry["description"] = "Open at other times than usual."
        if exception.note:
            entry["notes"] = exception.note
        schedules.append(entry)
    for index, entry in enumerate(schedules):
        entry["id"] = _id("schedule", sid, str(index))
        if "valid_from" in entry and "opens_at" not in entry:
            entry["attributes"] = [_attribute(entry["id"], ENTITY_SCHEDULE, 0, T_FLAG, FLAG_CLOSED)]
    return [{"id": e.pop("id"), **e} for e in schedules]


def _locations_doc(service: Service, municipalities: list[Municipality]) -> list[dict]:
    sid = str(service.code)
    found: list[dict] = []
    has_address = service.street_address or service.postal_code or service.city
    has_position = service.latitude is not None or service.longitude is not None
    if has_address or has_position:
        location_id = _id("location", sid, "physical")
        location: dict[str, Any] = {
            "id": location_id,
            "location_type": "physical",
            "name": service.name_nb,
        }
        if service.latitude is not None:
            location["latitude"] = float(service.latitude)
        if service.longitude is not None:
            location["longitude"] = float(service.longitude)
        if has_address:
            location["addresses"] = [
                {
                    "id": _id("address", sid),
                    "location_id": location_id,
                    "address_1": service.street_address,
                    "city": service.city,
                    # HSDS requires a state; ours is the county, which import ignores.
                    "state_province": municipalities[0].county_name if municipalities else "",
                    "postal_code": service.postal_code,
                    "country": COUNTRY,
                    "address_type": "physical",
                }
            ]
        found.append(location)
    if service.chat_url:
        found.append(
            {
                "id": _id("location", sid, "virtual"),
                "location_type": "virtual",
                "name": f"{service.name_nb} (chat)",
                "url": service.chat_url,
            }
        )
    return [
        {
            "id": _id("service_at_location", sid, loc["location_type"]),
            "service_id": sid,
            "location_id": loc["id"],
            "location": loc,
        }
        for loc in found
    ]


# --- parsing ------------------------------------------------------------------------------


def hsds_parse(*, data: bytes | str) -> dict:
    """Decode an HSDS JSON file, refusing what is not a JSON object."""
    if len(data) > MAX_BYTES:
        raise HsdsError(f"document: larger than {MAX_BYTES // (1024 * 1024)} MB")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise HsdsError("document: not UTF-8 text") from None
    try:
        document = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise HsdsError("document: nested too deeply") from None
    except ValueError as error:
        raise HsdsError(f"document: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise HsdsError(f"document: expected a JSON object, got {_json_type(document)}")
    return document


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


@cache
def _schema_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    # Resolving $ref on every object is half the cost of validating; the schema has no cycles.
    return Draft202012Validator(_inline_refs(schema, schema["$defs"]))


def _inline_refs(node: Any, defs: dict) -> Any:
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            return _inline_refs(defs[node["$ref"].removeprefix("#/$defs/")], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def _schema_check(document: dict) -> None:
    # The first problem found is enough, and stopping there keeps a huge bad file cheap.
    error = next(iter(_schema_validator().iter_errors(document)), None)
    if error is None:
        return
    where = ""
    for key in error.absolute_path:
        where = _path(where, key)
    where = where or "document"
    value = error.instance
    match error.validator:
        case "required":
            missing = [k for k in error.validator_value if k not in value]
            problem = f'missing required field "{missing[0]}"'
        case "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            extra = sorted(k for k in value if k not in allowed)
            problem = f'unknown field "{extra[0]}"'
        case "type":
            problem = f"expected {error.validator_value}, got {_json_type(value)}"
            if error.validator_value == "integer" and isinstance(value, float):
                problem = f"{value} is not a whole number"
        case "maxLength":
            problem = f"longer than {error.validator_value} characters"
        case "minLength":
            problem = "must not be empty"
        case "maxItems":
            problem = f"more than {error.validator_value} entries"
        case "enum":
            options = ", ".join(f'"{o}"' for o in error.validator_value)
            problem = f"{_show(value)} is not one of {options}"
        case "const":
            problem = f'{_show(value)} is not supported (expected "{error.validator_value}")'
        case _:
            problem = error.message
    raise HsdsError(f"{where}: {problem}")


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"an {_json_type(value)}"  # never print nested data back
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


# --- validation ---------------------------------------------------------------------------


@dataclass
class _UnitPlan:
    code: str
    name: str
    kind: str
    parent_code: str | None
    organisation_number: str
    municipalities: list[str]


@dataclass
class _ServicePlan:
    code: uuid.UUID
    unit_code: str
    values: dict[str, Any]
    municipalities: list[str]
    needs: list[str]
    hours: list[tuple[int, dt.time, dt.time]]
    exceptions: list[tuple[dt.date, bool, dt.time | None, dt.time | None, str]]
    last_modified: dt.datetime | None


@dataclass(frozen=True)
class _Term:
    taxonomy: str
    code: str


@dataclass
class _Plan:
    units: list[_UnitPlan] = field(default_factory=list)
    services: list[_ServicePlan] = field(default_factory=list)


class _Validator:
    """Checks a document already known to match the schema; builds the plan to write."""

    def __init__(self, document: dict):
        self.document = document
        self.known_municipalities = set(Municipality.objects.values_list("number", flat=True))
        self.vocabulary = {name: {c for c, _, _ in terms} for name, terms in _vocabulary().items()}
        self.terms: dict[str, _Term] = {}
        self.units_by_id: dict[str, str] = {}

    def run(self) -> _Plan:
        self._unique_ids()
        self._taxonomies()
        plan = _Plan()
        plan.units = self._organizations()
        plan.services = [
            self._service(s, f"services[{i}]") for i, s in enumerate(self.document["services"])
        ]
        return plan

    def _unique_ids(self) -> None:
        seen: dict[str, str] = {}
        for where, value in _ids(self.document, ""):
            if value in seen:
                raise HsdsError(f'{where}: duplicate id "{value}" (also at {seen[value]})')
            seen[value] = where

    def _taxonomies(self) -> None:
        names: dict[str, str] = {}
        for i, taxonomy in enumerate(self.document["taxonomies"]):
            where = f"taxonomies[{i}].name"
            name = taxonomy["name"]
            if name not in TAXONOMIES:
                raise HsdsError(f"{where}: unknown taxonomy {_show(name)}")
            if name in names.values():
                raise HsdsError(f"{where}: taxonomy {_show(name)} appears twice")
            names[taxonomy["id"]] = name
        for i, term in enumerate(self.document["taxonomy_terms"]):
            where = f"taxonomy_terms[{i}]"
            name = names.get(term["taxonomy_id"])
            if name is None:
                raise HsdsError(
                    f"{where}.taxonomy_id: no taxonomy with id {_show(term['taxonomy_id'])}"
                )
            if term["code"] not in self.vocabulary[name]:
                what = "need" if name == T_NEED else f"{name} code"
                raise HsdsError(f"{where}.code: unknown {what} {_show(term['code'])}")
            self.terms[term["id"]] = _Term(name, term["code"])

    def _attributes(
        self, items: list[dict], where: str, *, owner: str, entity: str
    ) -> list[tuple[_Term, str | None, str]]:
        found: list[tuple[_Term, str | None, str]] = []
        seen: set[tuple[str, str, str | None]] = set()
        allowed = ALLOWED_TERMS[entity]
        for i, item in enumerate(items):
            at = f"{where}[{i}]"
            term = self.terms.get(item["taxonomy_term_id"])
            if term is None:
                raise HsdsError(
                    f"{at}.taxonomy_term_id: no taxonomy term with id "
                    f"{_show(item['taxonomy_term_id'])}"
                )
            if "link_id" in item and item["link_id"] != owner:
                raise HsdsError(f"{at}.link_id: {_show(item['link_id'])} is not this {entity}")
            if "link_entity" in item and item["link_entity"] != entity:
                raise HsdsError(f"{at}.link_entity: {_show(item['link_entity'])} is not {entity}")
            codes = allowed.get(term.taxonomy, set())
            if term.taxonomy not in allowed or (codes is not None and term.code not in codes):
                raise HsdsError(f'{at}: {term.taxonomy} "{term.code}" does not apply to a {entity}')
            value = item.get("value")
            if term.taxonomy == T_PROPERTY:
                if value is None:
                    raise HsdsError(f'{at}: missing required field "value"')
            elif value not in (None, ""):
                raise HsdsError(f'{at}.value: {term.taxonomy} "{term.code}" takes no value')
            else:
                value = None
            key = (term.taxonomy, term.code, value)
            if key in seen:
                raise HsdsError(f'{at}: {term.taxonomy} "{term.code}" is given twice')
            seen.add(key)
            found.append((term, value, at))
        return found

    @staticmethod
    def _one(attributes, taxonomy: str, where: str, what: str, code: str | None = None):
        matches = [
            (term, value, at)
            for term, value, at in attributes
            if term.taxonomy == taxonomy and (code is None or term.code == code)
        ]
        if not matches:
            raise HsdsError(f"{where}: no {taxonomy} {what} (it is required)")
        if len(matches) > 1:
            raise HsdsError(f"{matches[1][2]}: more than one {taxonomy} {what}")
        return matches[0]

    def _municipality(self, value: str, at: str) -> str:
        if not _DIGITS_4.fullmatch(value):
            raise HsdsError(f"{at}.value: {_show(value)} is not a kommunenummer (4 digits)")
        if value not in self.known_municipalities:
            raise HsdsError(f"{at}.value: unknown municipality {_show(value)}")
        return value

    def _organizations(self) -> list[_UnitPlan]:
        plans: list[_UnitPlan] = []
        parents: dict[str, str] = {}
        codes_seen: dict[str, str] = {}
        organizations = self.document["organizations"]
        for i, org in enumerate(organizations):
            where = f"organizations[{i}]"
            name = org["name"]
            if not name.strip():
                raise HsdsError(f"{where}.name: must not be empty")
            attributes = self._attributes(
                org.get("attributes", []),
                f"{where}.attributes",
                owner=org["id"],
                entity=ENTITY_ORGANIZATION,
            )
            _, code, at = self._one(
                attributes, T_PROPERTY, f"{where}.attributes", "unit-code", P_UNIT_CODE
            )
            try:
                validate_slug(code)
            except ValidationError:
                raise HsdsError(f"{at}.value: {_show(code)} is not a valid unit code") from None
            if len(code) > 80:
                raise HsdsError(f"{at}.value: unit code longer than 80 characters")
            if code in codes_seen:
                raise HsdsError(f"{at}.value: unit code {_show(code)} also at {codes_seen[code]}")
            codes_seen[code] = at
            kind, _, _ = self._one(attributes, T_UNIT_KIND, f"{where}.attributes", "term")
            municipalities = [
                self._municipality(value, at)
                for term, value, at in attributes
                if term == _Term(T_PROPERTY, P_KOMMUNENUMMER)
            ]
            orgnr = ""
            identifiers = org.get("organization_identifiers", [])
            for j, identifier in enumerate(identifiers):
                at = f"{where}.organization_identifiers[{j}]"
                if identifier.get("identifier_scheme") != ORGNR_SCHEME:
                    raise HsdsError(
                        f'{at}.identifier_scheme: only "{ORGNR_SCHEME}" (organisasjonsnummer) '
                        "is supported"
                    )
                if orgnr:
                    raise HsdsError(f"{at}: more than one organisasjonsnummer")
                orgnr = identifier["identifier"]
                if not _DIGITS_9.fullmatch(orgnr):
                    raise HsdsError(f"{at}.identifier: {_show(orgnr)} is not 9 digits")
            if len(name) > 200:
                raise HsdsError(f"{where}.name: longer than 200 characters")
            self.units_by_id[org["id"]] = code
            if "parent_organization_id" in org:
                parents[org["id"]] = org["parent_organization_id"]
            plans.append(_UnitPlan(code, name, kind.code, None, orgnr, municipalities))
        for i, org in enumerate(organizations):
            parent = parents.get(org["id"])
            if parent is None:
                continue
            where = f"organizations[{i}].parent_organization_id"
            if parent not in self.units_by_id:
                raise HsdsError(f"{where}: no organization with id {_show(parent)}")
            chain, node = {org["id"]}, parent
            while node is not None:
                if node in chain:
                    raise HsdsError(f"{where}: the parent chain loops back to this organization")
                chain.add(node)
                node = parents.get(node)
            plans[i].parent_code = self.units_by_id[parent]
        return plans

    def _service(self, doc: dict, where: str) -> _ServicePlan:
        try:
            code = uuid.UUID(doc["id"])
        except ValueError:
            raise HsdsError(f"{where}.id: {_show(doc['id'])} is not a UUID") from None
        unit_code = self.units_by_id.get(doc["organization_id"])
        if unit_code is None:
            raise HsdsError(
                f"{where}.organization_id: no organization with id {_show(doc['organization_id'])}"
            )
        for key in ("phones", "schedules", "service_areas", "service_at_locations"):
            for i, item in enumerate(doc.get(key, [])):
                if "service_id" in item and item["service_id"] != doc["id"]:
                    raise HsdsError(
                        f"{where}.{key}[{i}].service_id: {_show(item['service_id'])} "
                        "is not this service"
                    )
        name = doc["name"]
        if not name.strip():
            raise HsdsError(f"{where}.name: must not be empty")
        values: dict[str, Any] = {
            "name_nb": name,
            "description_nb": doc.get("description", ""),
            "how_to_nb": doc.get("application_process", ""),
            "is_active": doc["status"] == "active",
            "website": self._url(doc, "url", where),
            "email": self._email(doc, where),
            "last_verified": self._date(doc, "assured_date", where),
        }
        values["age_min"], values["age_max"] = self._ages(doc, where)
        values.update(self._phones(doc.get("phones", []), f"{where}.phones"))
        values.update(self._locations(doc.get("service_at_locations", []), where))
        hours, exceptions = self._schedules(doc.get("schedules", []), f"{where}.schedules")
        at = f"{where}.attributes"
        attributes = self._attributes(
            doc.get("attributes", []), at, owner=doc["id"], entity=ENTITY_SERVICE
        )
        level, _, _ = self._one(attributes, T_LEVEL, at, "term")
        coverage, _, _ = self._one(attributes, T_COVERAGE, at, "term")
        values["level"], values["coverage"] = level.code, coverage.code
        codes_of = [(t.taxonomy, t.code, v, at) for t, v, at in attributes]
        channels = {c for taxonomy, c, _, _ in codes_of if taxonomy == T_CHANNEL}
        for channel in Channel.values:
            values[f"offers_{channel}"] = channel in channels
        values["referrers"] = [c for taxonomy, c, _, _ in codes_of if taxonomy == T_REFERRER]
        flags = {c for taxonomy, c, _, _ in codes_of if taxonomy == T_FLAG}
        for flag, (model_field, _) in SERVICE_FLAGS.items():
            values[model_field] = flag in flags
        for model_field, _ in SERVICE_TEXTS.values():
            values[model_field] = ""
        for taxonomy, c, value, at in codes_of:
            if taxonomy == T_PROPERTY:
                if c == "name-nn" and len(value) > 200:
                    raise HsdsError(f"{at}.value: longer than 200 characters")
                values[SERVICE_TEXTS[c][0]] = value
        return _ServicePlan(
            code=code,
            unit_code=unit_code,
            values=values,
            municipalities=self._areas(doc.get("service_areas", []), f"{where}.service_areas"),
            needs=[c for taxonomy, c, _, _ in codes_of if taxonomy == T_NEED],
            hours=hours,
            exceptions=exceptions,
            last_modified=self._timestamp(doc, where),
        )

    @staticmethod
    def _url(doc: dict, key: str, where: str) -> str:
        value = doc.get(key, "")
        if value:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except ValidationError:
                raise HsdsError(
                    f"{_path(where, key)}: {_show(value)} is not a web address"
                ) from None
        return value

    @staticmethod
    def _email(doc: dict, where: str) -> str:
        value = doc.get("email", "")
        if value:
            try:
                EmailValidator()(value)
            except ValidationError:
                raise HsdsError(f"{where}.email: {_show(value)} is not an email address") from None
        return value

    @staticmethod
    def _date(doc: dict, key: str, where: str) -> dt.date | None:
        value = doc.get(key)
        if value is None:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            raise HsdsError(
                f"{_path(where, key)}: {_show(value)} is not a date (YYYY-MM-DD)"
            ) from None

    @staticmethod
    def _timestamp(doc: dict, where: str) -> dt.datetime | None:
        value = doc.get("last_modified")
        if value is None:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise HsdsError(f"{where}.last_modified: {_show(value)} is not a date-time") from None
        if parsed.tzinfo is None:
            raise HsdsError(f"{where}.last_modified: {_show(value)} has no time zone")
        return parsed

    @staticmethod
    def _ages(doc: dict, where: str) -> tuple[int, int]:
        ages = []
        for key, default in (("minimum_age", 0), ("maximum_age", 120)):
            value = int(doc.get(key, default))
            if not 0 <= value <= 120:
                raise HsdsError(f"{where}.{key}: {value} is not an age between 0 and 120")
            ages.append(value)
        if ages[0] > ages[1]:
            raise HsdsError(f"{where}.minimum_age: {ages[0]} is above the maximum age {ages[1]}")
        return ages[0], ages[1]

    @staticmethod
    def _phones(phones: list[dict], where: str) -> dict[str, str]:
        values = {"phone": "", "sms_number": ""}
        fields = {"voice": "phone", "text": "sms_number"}
        for i, phone in enumerate(phones):
            kind = phone.get("type", "voice")
            if kind not in fields:
                raise HsdsError(f'{where}[{i}].type: {_show(kind)} is not "voice" or "text"')
            if values[fields[kind]]:
                raise HsdsError(f"{where}[{i}]: more than one {kind} number")
            number = phone["number"]
            if not number.strip() or len(number) > 30:
                raise HsdsError(f"{where}[{i}].number: must be 1 to 30 characters")
            values[fields[kind]] = number
        return values

    @staticmethod
    def _coordinate(location: dict, key: str, limit: int, where: str) -> Decimal | None:
        if key not in location:
            return None
        value = location[key]
        try:
            number = Decimal(str(value))
            if not number.is_finite():
                raise ValueError
            number = number.quantize(_COORDINATE)
        except (InvalidOperation, ValueError):
            raise HsdsError(f"{where}.{key}: {_show(value)} is not a coordinate") from None
        if not -limit <= number <= limit:
            raise HsdsError(f"{where}.{key}: {value} is outside -{limit}…{limit}")
        return number

    def _locations(self, items: list[dict], where: str) -> dict[str, Any]:
        values: dict[str, Any] = {
            "street_address": "",
            "postal_code": "",
            "city": "",
            "latitude": None,
            "longitude": None,
            "chat_url": "",
        }
        seen: set[str] = set()
        for i, item in enumerate(items):
            at = f"{where}.service_at_locations[{i}].location"
            location = item["location"]
            if "location_id" in item and item["location_id"] != location["id"]:
                raise HsdsError(
                    f"{where}.service_at_locations[{i}].location_id: does not match location.id"
                )
            kind = location["location_type"]
            if kind in seen:
                raise HsdsError(f"{at}.location_type: more than one {kind} location")
            seen.add(kind)
            if kind == "virtual":
                if not location.get("url"):
                    raise HsdsError(f'{at}: missing required field "url" (the chat address)')
                values["chat_url"] = self._url(location, "url", at)
                continue
            values["latitude"] = self._coordinate(location, "latitude", 90, at)
            values["longitude"] = self._coordinate(location, "longitude", 180, at)
            if (values["latitude"] is None) != (values["longitude"] is None):
                raise HsdsError(f"{at}: give both latitude and longitude, or neither")
            for j, address in enumerate(location.get("addresses", [])):
                ap = f"{at}.addresses[{j}]"
                postal = address["postal_code"]
                if postal and not _DIGITS_4.fullmatch(postal):
                    raise HsdsError(f"{ap}.postal_code: {_show(postal)} is not 4 digits")
                city = address["city"]
                if len(city) > 100:
                    raise HsdsError(f"{ap}.city: longer than 100 characters")
                values["street_address"] = address["address_1"]
                values["postal_code"] = postal
                values["city"] = city
        return values

    @staticmethod
    def _clock(schedule: dict, key: str, where: str) -> dt.time | None:
        value = schedule.get(key)
        if value is None:
            return None
        if not _TIME.fullmatch(value):
            raise HsdsError(f"{where}.{key}: {_show(value)} is not a time (HH:MM)")
        return dt.time.fromisoformat(value)

    def _schedules(self, items: list[dict], where: str):
        hours: list[tuple[int, dt.time, dt.time]] = []
        exceptions: list[tuple[dt.date, bool, dt.time | None, dt.time | None, str]] = []
        for i, schedule in enumerate(items):
            at = f"{where}[{i}]"
            opens = self._clock(schedule, "opens_at", at)
            closes = self._clock(schedule, "closes_at", at)
            if (opens is None) != (closes is None):
                missing = "closes_at" if closes is None else "opens_at"
                raise HsdsError(f'{at}: missing "{missing}" (give both times, or neither)')
            if opens is not None and opens >= closes:
                raise HsdsError(
                    f"{at}.closes_at: {_show(schedule['closes_at'])} is not after "
                    f"opens_at {_show(schedule['opens_at'])}"
                )
            attributes = self._attributes(
                schedule.get("attributes", []),
                f"{at}.attributes",
                owner=schedule["id"],
                entity=ENTITY_SCHEDULE,
            )
            marked_closed = bool(attributes)
            if "freq" in schedule:
                hours += self._weekly(schedule, at, opens, closes, marked_closed)
                continue
            if "valid_from" not in schedule:
                raise HsdsError(
                    f'{at}: give "freq" WEEKLY for weekly hours, or "valid_from" for one date'
                )
            day = self._date(schedule, "valid_from", at)
            last = self._date(schedule, "valid_to", at) if "valid_to" in schedule else day
            if last != day:
                raise HsdsError(f"{at}.valid_to: must equal valid_from (one date per exception)")
            if "dtstart" in schedule and self._date(schedule, "dtstart", at) != day:
                raise HsdsError(f"{at}.dtstart: must equal valid_from")
            if "byday" in schedule or "interval" in schedule:
                raise HsdsError(f'{at}: a one-date schedule takes no "byday" or "interval"')
            closed = opens is None
            if marked_closed and not closed:
                raise HsdsError(f'{at}: marked "closed" but has opening times')
            note = schedule.get("notes", "")
            if len(note) > 200:
                raise HsdsError(f"{at}.notes: longer than 200 characters")
            exceptions.append((day, closed, opens, closes, note))
        return hours, exceptions

    def _weekly(self, schedule, at, opens, closes, marked_closed):
        if schedule["freq"] != "WEEKLY":
            raise HsdsError(f'{at}.freq: {_show(schedule["freq"])} is not supported, only "WEEKLY"')
        if schedule.get("interval", 1) != 1:
            raise HsdsError(f"{at}.interval: only 1 (every week) is supported")
        for key in ("valid_from", "valid_to", "notes"):
            if key in schedule:
                raise HsdsError(f'{at}.{key}: weekly hours take no "{key}"')
        if marked_closed:
            raise HsdsError(f'{at}: weekly hours cannot be marked "closed"')
        if opens is None:
            raise HsdsError(f'{at}: missing required field "opens_at"')
        byday = schedule.get("byday", "")
        days = [d.strip() for d in byday.split(",")] if byday.strip() else []
        if not days:
            raise HsdsError(f'{at}: missing required field "byday"')
        for day in days:
            if day not in WEEKDAYS:
                raise HsdsError(f"{at}.byday: {_show(day)} is not a day (MO, TU, … SU)")
        if len(set(days)) != len(days):
            raise HsdsError(f"{at}.byday: a day is given twice")
        return [(WEEKDAYS.index(d), opens, closes) for d in days]

    def _areas(self, items: list[dict], where: str) -> list[str]:
        numbers: list[str] = []
        for i, area in enumerate(items):
            at = f"{where}[{i}]"
            attributes = self._attributes(
                area.get("attributes", []),
                f"{at}.attributes",
                owner=area["id"],
                entity=ENTITY_SERVICE_AREA,
            )
            _, value, vat = self._one(
                attributes, T_PROPERTY, f"{at}.attributes", "kommunenummer", P_KOMMUNENUMMER
            )
            number = self._municipality(value, vat)
            if number in numbers:
                raise HsdsError(f"{vat}.value: municipality {number} is given twice")
            numbers.append(number)
        return numbers


def _ids(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            yield _path(where, "id"), value["id"]
        for key, item in value.items():
            if isinstance(item, dict | list):
                yield from _ids(item, _path(where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _ids(item, _path(where, index))


# --- import -------------------------------------------------------------------------------


def hsds_validate(*, document: Any) -> None:
    """Check a whole HSDS document without writing; raise HsdsError on the first problem."""
    _plan(document)


def _plan(document: Any) -> _Plan:
    if not isinstance(document, dict):
        raise HsdsError(f"document: expected a JSON object, got {_json_type(document)}")
    # jsonschema would print a whole oversized array into its message; count first.
    for name, rules in _schema_validator().schema["properties"].items():
        limit = rules.get("maxItems")
        if limit and isinstance(document.get(name), list) and len(document[name]) > limit:
            raise HsdsError(f"{name}: more than {limit} entries")
    # The schema types every field, so validation never descends into nested junk.
    _schema_check(document)
    return _Validator(document).run()


def hsds_import(*, document: dict) -> HsdsImportResult:
    """Create or update units and services from an HSDS document; all or nothing."""
    plan = _plan(document)
    return _write(plan)


@transaction.atomic
def _write(plan: _Plan) -> HsdsImportResult:
    existing = {
        u.code: u for u in OrganisationUnit.objects.filter(code__in=[p.code for p in plan.units])
    }
    units: dict[str, OrganisationUnit] = {}
    units_created = 0
    for p in plan.units:
        unit = existing.get(p.code)
        if unit is None:
            unit = OrganisationUnit(code=p.code)
            units_created += 1
        unit.name, unit.kind, unit.organisation_number = p.name, p.kind, p.organisation_number
        unit.save()
        units[p.code] = unit
    for p in plan.units:
        unit = units[p.code]
        parent = units[p.parent_code] if p.parent_code else None
        if unit.parent_id != (parent.pk if parent else None):
            unit.parent = parent
            unit.save(update_fields=["parent"])
        unit.municipalities.set(p.municipalities)

    needs = dict(Need.objects.values_list("code", "pk"))
    current = {s.code: s for s in Service.objects.filter(code__in=[p.code for p in plan.services])}
    services_created = 0
    for p in plan.services:
        service = current.get(p.code)
        if service is None:
            service = Service(code=p.code)
            services_created += 1
        for name, value in p.values.items():
            setattr(service, name, value)
        service.unit = units[p.unit_code]
        service.save()
        service.municipalities.set(p.municipalities)
        service.needs.set([needs[c] for c in p.needs])
        service.hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(service=service, weekday=d, opens=o, closes=c) for d, o, c in p.hours
        )
        service.exceptions.all().delete()
        OpeningException.objects.bulk_create(
            OpeningException(
                service=service, date=day, closed=closed, opens=opens, closes=closes, note=note
            )
            for day, closed, opens, closes, note in p.exceptions
        )
        if p.last_modified is not None:
            # The source's change time, not the import's: a round trip keeps it.
            Service.objects.filter(pk=service.pk).update(updated_at=p.last_modified)
        service_record_import(service=service)
    return HsdsImportResult(
        services_created=services_created,
        services_updated=len(plan.services) - services_created,
        units_created=units_created,
        units_updated=len(plan.units) - units_created,
    )

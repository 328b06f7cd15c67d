"""The Vestfold demo: organisation units and services, and one demo user per role.

The data are files, not code: `directory/demo/*.json` (units and services) and
`core/demo/users.json` (users). Loading creates what is missing and never changes what
exists, so a second run changes nothing and keeps what people added or edited in the demo.
A demo service is found again by its code, a UUID derived from its stable key.

Every service in the files is fictional (`is_demo`); its phone numbers follow the reserved
pattern `+47 000 NN NNN` and its e-mail and web addresses are under `example.no`, which the
loader enforces so that no real service's number can end up in a demo.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

import samhandling.core
from samhandling.core.models import Municipality, OrganisationUnit, Role, UnitKind, User
from samhandling.core.services import user_assign_role
from samhandling.directory.models import (
    Channel,
    Coverage,
    Level,
    Need,
    OpeningException,
    OpeningHours,
    Referrer,
    Service,
    ServiceVersion,
)
from samhandling.directory.services.editing import (
    exceptions_problems,
    hours_problems,
    service_snapshot,
)

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
USERS_FILE = Path(samhandling.core.__file__).resolve().parent / "demo" / "users.json"

# Fixed forever: changing it would make every demo service look new on the next load.
DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:samhandling:demo:service")

FAKE_PHONE = re.compile(r"^\+47 000 \d{2} \d{3}$")
FICTIONAL_DOMAIN = "example.no"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

UNIT_KEYS = {"key", "name", "kind", "parent", "municipalities"}
SERVICE_TEXT_KEYS = (
    "name_nb",
    "name_nn",
    "description_nb",
    "description_nn",
    "how_to_nb",
    "how_to_nn",
    "street_address",
    "postal_code",
    "city",
    "phone",
    "sms_number",
    "email",
    "website",
    "chat_url",
)
SERVICE_BOOL_KEYS = ("referral_required", "always_open", "open_on_holidays")
SERVICE_KEYS = {
    "key",
    "unit",
    *SERVICE_TEXT_KEYS,
    *SERVICE_BOOL_KEYS,
    "coverage",
    "municipalities",
    "level",
    "age_min",
    "age_max",
    "needs",
    "channels",
    "referrers",
    "hours",
    "exceptions",
    "latitude",
    "longitude",
    "last_verified",
}
SERVICE_REQUIRED = {"key", "unit", "name_nb", "name_nn", "coverage", "level"}


class DemoDataError(Exception):
    """A demo file is missing, malformed or inconsistent; nothing was loaded."""


@dataclass(frozen=True)
class DemoResult:
    units_created: int = 0
    units_existing: int = 0
    services_created: int = 0
    services_existing: int = 0
    versions_created: int = 0


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str
    first_name: str
    last_name: str
    email: str
    units: tuple[str, ...]
    superuser: bool


@dataclass(frozen=True)
class DemoUsersResult:
    created: int
    existing: int
    users: list[DemoUser] = field(default_factory=list)


@dataclass
class _ServicePlan:
    key: str
    unit: str
    values: dict[str, Any]
    municipalities: list[str]
    needs: list[str]
    hours: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]


def demo_service_code(key: str) -> uuid.UUID:
    """The code a demo service always gets, so a later load finds it again."""
    return uuid.uuid5(DEMO_NAMESPACE, key)


# --- reading and checking the files ---------------------------------------------------


class _Checker:
    """Collects every problem in the demo files, each with its file and entry."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.units: dict[str, dict[str, Any]] = {}
        self.services: list[_ServicePlan] = []
        self._service_keys: set[str] = set()
        self.known_municipalities = set(Municipality.objects.values_list("number", flat=True))
        self.known_needs = set(Need.objects.values_list("code", flat=True))

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def document(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            self.add(path.name, f"cannot be read ({error.__class__.__name__})")
            return
        except json.JSONDecodeError as error:
            self.add(path.name, f"is not valid JSON (line {error.lineno}: {error.msg})")
            return
        if not isinstance(doc, dict):
            self.add(path.name, "must hold a JSON object with 'units' and 'services'")
            return
        unknown = set(doc) - {"about", "units", "services"}
        if unknown:
            self.add(path.name, f"unknown keys {', '.join(sorted(unknown))}")
        for name, check in (("units", self.unit), ("services", self.service)):
            entries = doc.get(name, [])
            if not isinstance(entries, list):
                self.add(path.name, f"'{name}' must be a list")
                continue
            for index, entry in enumerate(entries):
                key = entry.get("key") if isinstance(entry, dict) else None
                where = f"{path.name}: {name}[{index}]" + (f" ({key})" if key else "")
                if not isinstance(entry, dict):
                    self.add(where, "must be a JSON object")
                    continue
                check(entry, where)

    def _keys(self, entry: dict, where: str, allowed: set[str], required: set[str]) -> bool:
        unknown, missing = set(entry) - allowed, required - set(entry)
        if unknown:
            self.add(where, f"unknown fields {', '.join(sorted(unknown))}")
        if missing:
            self.add(where, f"missing fields {', '.join(sorted(missing))}")
        return not unknown and not missing

    def _slug(self, value: Any, where: str, what: str) -> bool:
        if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", value):
            self.add(where, f"{what} {value!r} must be lower-case letters, digits and hyphens")
            return False
        if len(value) > 80:
            self.add(where, f"{what} {value!r} is longer than 80 characters")
            return False
        return True

    def _municipalities(self, value: Any, where: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(where, "municipalities must be a list of kommunenummer strings")
            return []
        unknown = sorted(set(value) - self.known_municipalities)
        if unknown:
            self.add(where, f"unknown municipalities {', '.join(unknown)}")
        return sorted(set(value))

    def unit(self, entry: dict, where: str) -> None:
        if not self._keys(entry, where, UNIT_KEYS, {"key", "name", "kind"}):
            return
        key = entry["key"]
        if not self._slug(key, where, "key"):
            return
        if key in self.units:
            self.add(where, f"the unit key {key!r} is used twice")
            return
        if entry["kind"] not in UnitKind.values:
            self.add(where, f"kind {entry['kind']!r} is not one of {', '.join(UnitKind.values)}")
        if not isinstance(entry["name"], str) or not entry["name"].strip():
            self.add(where, "name must be a non-empty text")
        parent = entry.get("parent")
        if parent is not None and not isinstance(parent, str):
            self.add(where, "parent must be a unit key or null")
        self.units[key] = {
            "name": str(entry["name"]).strip(),
            "kind": entry["kind"],
            "parent": parent,
            "municipalities": self._municipalities(entry.get("municipalities", []), where),
            "where": where,
        }

    def service(self, entry: dict, where: str) -> None:
        if not self._keys(entry, where, SERVICE_KEYS, SERVICE_REQUIRED):
            return
        key = entry["key"]
        if not self._slug(key, where, "key"):
            return
        if key in self._service_keys:
            self.add(where, f"the service key {key!r} is used twice")
            return
        self._service_keys.add(key)
        before = len(self.problems)
        values: dict[str, Any] = {}
        for name in SERVICE_TEXT_KEYS:
            value = entry.get(name, "")
            if not isinstance(value, str):
                self.add(where, f"{name} must be a text")
                continue
            values[name] = value.strip()
        for name in SERVICE_BOOL_KEYS:
            value = entry.get(name, False)
            if not isinstance(value, bool):
                self.add(where, f"{name} must be true or false")
                continue
            values[name] = value
        self._choices(entry, where, values)
        self._ages(entry, where, values)
        self._contacts(values, where)
        self._coordinates(entry, where, values)
        values["last_verified"] = self._date(entry.get("last_verified"), where, "last_verified")
        municipalities = self._municipalities(entry.get("municipalities", []), where)
        if values.get("coverage") == Coverage.NATIONAL and municipalities:
            self.add(where, "a national service lists no municipalities")
        if values.get("coverage") in (Coverage.MUNICIPAL, Coverage.REGIONAL) and not municipalities:
            self.add(where, "a municipal or regional service lists its municipalities")
        needs = entry.get("needs", [])
        if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
            self.add(where, "needs must be a list of need codes")
            needs = []
        unknown_needs = sorted(set(needs) - self.known_needs)
        if unknown_needs:
            self.add(
                where,
                f"unknown needs {', '.join(unknown_needs)} (codes are in directory/data/needs.csv;"
                " run load_reference first)",
            )
        hours = self._hours(entry.get("hours", []), where)
        exceptions = self._exceptions(entry.get("exceptions", []), where)
        if len(self.problems) > before:
            return
        self._model_rules(values, where)
        self.services.append(
            _ServicePlan(
                key=key,
                unit=entry["unit"],
                values=values,
                municipalities=municipalities,
                needs=sorted(set(needs)),
                hours=hours,
                exceptions=exceptions,
            )
        )

    def _choices(self, entry: dict, where: str, values: dict[str, Any]) -> None:
        for name, choices in (("level", Level), ("coverage", Coverage)):
            if entry[name] not in choices.values:
                self.add(where, f"{name} {entry[name]!r} is not one of {', '.join(choices.values)}")
            else:
                values[name] = entry[name]
        channels = entry.get("channels", [])
        if not isinstance(channels, list) or set(channels) - set(Channel.values):
            self.add(where, f"channels must be a list of {', '.join(Channel.values)}")
        else:
            for channel in Channel.values:
                values[f"offers_{channel}"] = channel in channels
        referrers = entry.get("referrers", [])
        if not isinstance(referrers, list) or set(referrers) - set(Referrer.values):
            self.add(where, f"referrers must be a list of {', '.join(Referrer.values)}")
            return
        if entry.get("referral_required") and (not referrers or Referrer.SELF in referrers):
            self.add(where, "a service that requires referral names who may refer, not 'self'")
        # Stored in the order of Referrer, as the editing service stores them.
        values["referrers"] = [code for code in Referrer.values if code in referrers]

    def _ages(self, entry: dict, where: str, values: dict[str, Any]) -> None:
        ages = entry.get("age_min", 0), entry.get("age_max", 120)
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in ages):
            self.add(where, "age_min and age_max must be whole numbers")
        elif not 0 <= ages[0] <= ages[1] <= 120:
            self.add(where, f"ages {ages[0]}–{ages[1]} must satisfy 0 ≤ age_min ≤ age_max ≤ 120")
        else:
            values["age_min"], values["age_max"] = ages

    def _contacts(self, values: dict[str, Any], where: str) -> None:
        for name in ("phone", "sms_number"):
            number = values.get(name, "")
            if number and not FAKE_PHONE.match(number):
                self.add(where, f"{name} {number!r} is not a fictional number like +47 000 00 001")
        email = values.get("email", "")
        if email and not _fictional_host(email.rpartition("@")[2]):
            self.add(where, f"email {email!r} must be at a fictional {FICTIONAL_DOMAIN} domain")
        for name in ("website", "chat_url"):
            url = values.get(name, "")
            if not url:
                continue
            parts = urlsplit(url)
            if parts.scheme != "https" or not _fictional_host(parts.hostname or ""):
                self.add(where, f"{name} {url!r} must be https:// at a {FICTIONAL_DOMAIN} domain")

    def _coordinates(self, entry: dict, where: str, values: dict[str, Any]) -> None:
        for name, limit in (("latitude", 90), ("longitude", 180)):
            raw = entry.get(name)
            if raw is None:
                values[name] = None
                continue
            try:
                if isinstance(raw, bool):
                    raise InvalidOperation
                number = Decimal(str(raw)).quantize(Decimal("0.000001"))
            except InvalidOperation:
                self.add(where, f"{name} {raw!r} is not a number")
                continue
            if not -limit <= number <= limit:
                self.add(where, f"{name} {raw!r} is outside ±{limit}")
                continue
            values[name] = number
        if (values.get("latitude") is None) != (values.get("longitude") is None):
            self.add(where, "give both latitude and longitude, or neither")

    def _date(self, raw: Any, where: str, what: str) -> dt.date | None:
        if raw is None:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            self.add(where, f"{what} {raw!r} is not a date like 2026-12-24")
            return None

    def _time(self, raw: Any, where: str, what: str) -> dt.time | None:
        if not isinstance(raw, str) or not re.fullmatch(r"\d{2}:\d{2}", raw):
            self.add(where, f"{what} {raw!r} is not a time like 08:30")
            return None
        try:
            return dt.time.fromisoformat(raw)
        except ValueError:
            self.add(where, f"{what} {raw!r} is not a time like 08:30")
            return None

    def _hours(self, raw: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(raw, list):
            self.add(where, "hours must be a list")
            return []
        rows = []
        for index, item in enumerate(raw):
            at = f"{where}: hours[{index}]"
            if not isinstance(item, dict) or set(item) != {"days", "opens", "closes"}:
                self.add(at, "must have exactly days, opens and closes")
                continue
            days = item["days"]
            if not isinstance(days, list) or not days or set(days) - set(WEEKDAYS):
                self.add(at, f"days must be a non-empty list of {', '.join(WEEKDAYS)}")
                continue
            opens, closes = (
                self._time(item["opens"], at, "opens"),
                self._time(item["closes"], at, "closes"),
            )
            if opens is None or closes is None:
                continue
            rows += [
                {"weekday": WEEKDAYS.index(day), "opens": opens, "closes": closes} for day in days
            ]
        with translation.override("en"):
            for problem in hours_problems(hours=rows):
                self.add(where, f"hours: {problem}")
        return rows

    def _exceptions(self, raw: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(raw, list):
            self.add(where, "exceptions must be a list")
            return []
        rows = []
        for index, item in enumerate(raw):
            at = f"{where}: exceptions[{index}]"
            if not isinstance(item, dict) or set(item) - {
                "date",
                "closed",
                "opens",
                "closes",
                "note",
            }:
                self.add(at, "may have only date, closed, opens, closes and note")
                continue
            date = self._date(item.get("date"), at, "date")
            closed = item.get("closed", False)
            if date is None or not isinstance(closed, bool):
                if date is not None:
                    self.add(at, "closed must be true or false")
                continue
            opens = self._time(item["opens"], at, "opens") if "opens" in item else None
            closes = self._time(item["closes"], at, "closes") if "closes" in item else None
            note = item.get("note", "")
            if not isinstance(note, str):
                self.add(at, "note must be a text")
                continue
            rows.append(
                {"date": date, "closed": closed, "opens": opens, "closes": closes, "note": note}
            )
        with translation.override("en"):
            for problem in exceptions_problems(exceptions=rows):
                self.add(where, f"exceptions: {problem}")
        return rows

    def _model_rules(self, values: dict[str, Any], where: str) -> None:
        # The model's own rules (lengths, e-mail and URL formats); the unit is checked apart.
        try:
            Service(**values, is_demo=True).full_clean(
                exclude=["code", "unit"], validate_unique=False
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add(where, f"{name}: {' '.join(str(m) for m in messages)}")

    def resolve(self) -> None:
        """Check that every parent and providing unit exists, in the files or the database."""
        referenced = {u["parent"] for u in self.units.values() if u["parent"]}
        referenced |= {s.unit for s in self.services}
        in_db = set(
            OrganisationUnit.objects.filter(code__in=referenced).values_list("code", flat=True)
        )
        for key, unit in self.units.items():
            parent = unit["parent"]
            if parent and parent not in self.units and parent not in in_db:
                self.add(unit["where"], f"parent {parent!r} is neither in the files nor loaded")
            if parent == key:
                self.add(unit["where"], "a unit cannot be its own parent")
        for plan in self.services:
            if plan.unit not in self.units and plan.unit not in in_db:
                self.add(f"service {plan.key}", f"unit {plan.unit!r} is not a known unit key")
        seen: set[str] = set()
        for key in self.units:
            chain, node = [], key
            while node in self.units and node not in seen and node not in chain:
                chain.append(node)
                node = self.units[node]["parent"]
            if node in chain:
                self.add(self.units[key]["where"], "the parents form a loop")
            seen.update(chain)


def _fictional_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == FICTIONAL_DOMAIN or host.endswith("." + FICTIONAL_DOMAIN)


def demo_files_check(*, directory: Path = DEMO_DIR) -> _Checker:
    """Read and check every demo file; raise DemoDataError listing all problems found."""
    paths = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not paths:
        raise DemoDataError(f"{directory}: no demo files (*.json) found")
    checker = _Checker()
    for path in paths:
        checker.document(path)
    if not checker.problems:
        checker.resolve()
    if checker.problems:
        shown = checker.problems[:50]
        more = len(checker.problems) - len(shown)
        raise DemoDataError(
            "The demo data has problems; nothing was loaded:\n- "
            + "\n- ".join(shown)
            + (f"\n… and {more} more" if more > 0 else "")
        )
    return checker


# --- loading ----------------------------------------------------------------------------


@transaction.atomic
def demo_load(*, directory: Path = DEMO_DIR) -> DemoResult:
    """Create the demo units and services that are missing; never change existing rows."""
    checker = demo_files_check(directory=directory)
    units_created, units_existing = _units_create(checker.units)
    existing_codes = set(
        Service.objects.filter(
            code__in=[demo_service_code(p.key) for p in checker.services]
        ).values_list("code", flat=True)
    )
    units = {
        u.code: u
        for u in OrganisationUnit.objects.filter(code__in={p.unit for p in checker.services})
    }
    created = versions = 0
    for plan in checker.services:
        code = demo_service_code(plan.key)
        if code in existing_codes:
            continue
        service = _service_create(plan, code=code, unit=units[plan.unit])
        created += 1
        if not ServiceVersion.objects.filter(service=service).exists():
            ServiceVersion.objects.create(
                service=service, number=1, author=None, snapshot=service_snapshot(service=service)
            )
            versions += 1
    return DemoResult(
        units_created=units_created,
        units_existing=units_existing,
        services_created=created,
        services_existing=len(existing_codes),
        versions_created=versions,
    )


def _units_create(units: Mapping[str, dict[str, Any]]) -> tuple[int, int]:
    existing = {
        u.code: u for u in OrganisationUnit.objects.filter(code__in=[*units, *_parents(units)])
    }
    created = 0
    pending = [key for key in units if key not in existing]
    # Parents first: repeat until every missing unit has its parent in place.
    while pending:
        ready = [k for k in pending if not units[k]["parent"] or units[k]["parent"] in existing]
        for key in ready:
            spec = units[key]
            unit = OrganisationUnit.objects.create(
                code=key,
                name=spec["name"],
                kind=spec["kind"],
                parent=existing.get(spec["parent"]) if spec["parent"] else None,
            )
            unit.municipalities.set(spec["municipalities"])
            existing[key] = unit
            created += 1
        pending = [k for k in pending if k not in existing]
        if not ready and pending:  # resolve() rules this out; guard against an endless loop
            raise DemoDataError(f"units without a parent in place: {', '.join(pending)}")
    return created, len(units) - created


def _parents(units: Mapping[str, dict[str, Any]]) -> set[str]:
    return {u["parent"] for u in units.values() if u["parent"]}


def _service_create(plan: _ServicePlan, *, code: uuid.UUID, unit: OrganisationUnit) -> Service:
    service = Service.objects.create(code=code, unit=unit, is_demo=True, **plan.values)
    service.municipalities.set(plan.municipalities)
    service.needs.set(Need.objects.filter(code__in=plan.needs))
    OpeningHours.objects.bulk_create(OpeningHours(service=service, **row) for row in plan.hours)
    OpeningException.objects.bulk_create(
        OpeningException(service=service, **row) for row in plan.exceptions
    )
    return service


# --- users ------------------------------------------------------------------------------


def demo_users_read(*, path: Path = USERS_FILE) -> list[DemoUser]:
    """The demo users as written in the file, checked."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise DemoDataError(f"{path.name}: file not found or unreadable") from None
    except json.JSONDecodeError as error:
        raise DemoDataError(f"{path.name}: not valid JSON (line {error.lineno})") from None
    entries = doc.get("users") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise DemoDataError(f"{path.name}: must hold an object with a 'users' list")
    allowed = {
        *("username", "role", "password", "first_name", "last_name", "email", "units"),
        "superuser",
    }
    users, problems, seen = [], [], set()
    for index, entry in enumerate(entries):
        where = f"{path.name}: users[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a JSON object")
            continue
        missing = {"username", "role", "password"} - set(entry)
        unknown = set(entry) - allowed
        if missing:
            problems.append(f"{where}: missing fields {', '.join(sorted(missing))}")
        if unknown:
            problems.append(f"{where}: unknown fields {', '.join(sorted(unknown))}")
        if missing or unknown:
            continue
        username = entry["username"]
        if username in seen:
            problems.append(f"{where}: username {username!r} is used twice")
        seen.add(username)
        if entry["role"] not in Role.values:
            problems.append(f"{where}: role {entry['role']!r} is not one of {Role.values}")
        if not isinstance(entry["password"], str) or len(entry["password"]) < 10:
            problems.append(f"{where}: password must be a text of at least 10 characters")
        units = entry.get("units", [])
        if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
            problems.append(f"{where}: units must be a list of unit keys")
            units = []
        users.append(
            DemoUser(
                username=str(username),
                role=str(entry["role"]),
                password=str(entry["password"]),
                first_name=str(entry.get("first_name", "")),
                last_name=str(entry.get("last_name", "")),
                email=str(entry.get("email", "")),
                units=tuple(units),
                superuser=entry.get("superuser") is True,
            )
        )
    if problems:
        raise DemoDataError(
            "The demo users have problems; none was loaded:\n- " + "\n- ".join(problems)
        )
    return users


@transaction.atomic
def demo_users_load(*, path: Path = USERS_FILE) -> DemoUsersResult:
    """Create the demo users that are missing; never touch an existing user or password."""
    if not (settings.SAMHANDLING_DEMO or settings.DEBUG):
        # Their passwords are published: never on a server that is not a demo.
        raise DemoDataError(
            "Demo users have publicly known passwords and are only loaded when "
            "SAMHANDLING_DEMO=true (as `samhandling demo` sets). Never do that in production."
        )
    users = demo_users_read(path=path)
    wanted = {code for user in users for code in user.units}
    units = {u.code: u for u in OrganisationUnit.objects.filter(code__in=wanted)}
    missing = sorted(wanted - set(units))
    if missing:
        raise DemoDataError(
            f"{path.name}: unknown units {', '.join(missing)} (load the demo services first)"
        )
    existing = set(
        User.objects.filter(username__in=[u.username for u in users]).values_list(
            "username", flat=True
        )
    )
    created = 0
    for spec in users:
        if spec.username in existing:
            continue
        user = User.objects.create_user(
            username=spec.username,
            email=spec.email,
            password=spec.password,
            first_name=spec.first_name,
            last_name=spec.last_name,
            is_staff=spec.superuser,
            is_superuser=spec.superuser,
        )
        user.units.set([units[code] for code in spec.units])
        user_assign_role(user=user, role=spec.role)
        created += 1
    return DemoUsersResult(created=created, existing=len(users) - created, users=users)


def demo_users_password_kept(*, users: Iterable[DemoUser]) -> dict[str, bool]:
    """For each demo user: does the stored password still equal the published one?"""
    users = list(users)
    stored = dict(
        User.objects.filter(username__in=[d.username for d in users]).values_list(
            "username", "password"
        )
    )
    # hashers.check_password, not User.check_password: a mere look must never rehash and save.
    return {d.username: check_password(d.password, stored.get(d.username)) for d in users}

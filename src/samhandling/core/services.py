"""Core owns users, roles, organisation units, municipalities, reference data and the access log.

Every read of identified personal data goes through `access_log_record` (or the bulk
variant) in the service that reads it, so no view can forget to log.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models, transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from samhandling.core.models import (
    AccessLog,
    AccessPurpose,
    CatchmentArea,
    CatchmentMembership,
    Municipality,
    OrganisationUnit,
    PopulationByAge,
    Role,
    UnitKind,
    User,
)

DATA_FILES = Path(__file__).resolve().parent / "data"
POPULATION_YEAR = 2024


class ReferenceDataError(Exception):
    """A reference file is missing, malformed or inconsistent; nothing was imported."""


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int = 0


# --- access log -------------------------------------------------------------------------


def _actor_fields(actor: User) -> dict[str, object]:
    return {
        "actor": actor,
        "actor_name": actor.get_full_name() or actor.get_username(),
        "actor_roles": ",".join(sorted(actor.role_names())),
        "actor_units": ",".join(sorted(actor.units.values_list("code", flat=True))),
    }


def _object_fields(obj: models.Model, subject_key: str) -> dict[str, object]:
    key = getattr(obj, "code", None) or obj.pk
    return {
        "object_type": obj._meta.label_lower,
        "object_key": str(key),
        "subject_key": subject_key,
    }


def access_log_record(
    *, actor: User, obj: models.Model, purpose: AccessPurpose, subject_key: str = ""
) -> AccessLog:
    """Log one read of identified personal data."""
    return AccessLog.objects.create(
        **_actor_fields(actor), **_object_fields(obj, subject_key), purpose=purpose
    )


def access_log_records(
    *,
    actor: User,
    objs: Iterable[models.Model],
    purpose: AccessPurpose,
    subject_key_of=lambda obj: "",
) -> list[AccessLog]:
    """Log the reads of every row a list shows, in one query."""
    who = _actor_fields(actor)
    rows = [
        AccessLog(**who, **_object_fields(obj, subject_key_of(obj)), purpose=purpose)
        for obj in objs
    ]
    return AccessLog.objects.bulk_create(rows)


def access_log_for_subject(*, subject_key: str) -> models.QuerySet[AccessLog]:
    """The reads of one person's records, for that person to see."""
    return AccessLog.objects.filter(subject_key=subject_key).order_by("-at")


# --- roles ------------------------------------------------------------------------------

# Model permissions granted to each role. Finer rules (own unit only) live in the apps'
# services; these only say what a role may do at all.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.YOUTH: [],
    Role.REFERRER: ["directory.view_service"],
    Role.INTAKE: ["directory.view_service"],
    Role.CLINICIAN: ["directory.view_service", "directory.change_service"],
    Role.COORDINATOR: [
        "directory.view_service",
        "directory.add_service",
        "directory.change_service",
    ],
    Role.EDITOR: [
        "directory.view_service",
        "directory.add_service",
        "directory.change_service",
        "directory.edit_any_service",
    ],
    Role.ANALYST: ["directory.view_service"],
    Role.ADMIN: [
        "directory.view_service",
        "directory.add_service",
        "directory.change_service",
        "directory.delete_service",
        "directory.edit_any_service",
        "pathways.publish_any_pathway",
    ],
}


def roles_setup() -> None:
    """Create a group per role with its permissions. Safe to run again."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(perms)


def user_assign_role(*, user: User, role: str) -> None:
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    if hasattr(user, "_role_names"):
        del user._role_names


# --- reference data ---------------------------------------------------------------------


def _read_csv(path: Path, required: set[str]) -> list[dict[str, str]]:
    if not path.exists():
        raise ReferenceDataError(f"{path.name}: file not found")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise ReferenceDataError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
        return list(reader)


def _check_digits(path: Path, line: int, value: str, length: int, what: str) -> None:
    if len(value) != length or not value.isdigit():
        raise ReferenceDataError(
            f"{path.name}, line {line}: {what} {value!r} is not {length} digits"
        )


@transaction.atomic
def municipalities_import(*, path: Path = DATA_FILES / "municipalities-2024.csv") -> ImportResult:
    """Create or update the municipalities from the packaged file."""
    rows = _read_csv(path, {"kommunenummer", "name", "official_name", "fylkesnummer", "fylke"})
    existing = {m.number: m for m in Municipality.objects.all()}
    created = updated = unchanged = 0
    for line, row in enumerate(rows, start=2):
        number = row["kommunenummer"].strip()
        _check_digits(path, line, number, 4, "municipality number")
        _check_digits(path, line, row["fylkesnummer"].strip(), 2, "county number")
        values = {
            "name": row["name"].strip(),
            "official_name": row["official_name"].strip(),
            "county_number": row["fylkesnummer"].strip(),
            "county_name": row["fylke"].strip(),
        }
        current = existing.get(number)
        if current is None:
            Municipality.objects.create(number=number, **values)
            created += 1
        elif any(getattr(current, k) != v for k, v in values.items()):
            Municipality.objects.filter(number=number).update(**values)
            updated += 1
        else:
            unchanged += 1
    return ImportResult(created, updated, unchanged)


@transaction.atomic
def population_import(
    *, path: Path = DATA_FILES / "population-by-age-2024.csv", year: int = POPULATION_YEAR
) -> ImportResult:
    """Replace the population of `year` with the packaged file's figures."""
    rows = _read_csv(path, {"kommunenummer", "age", "population"})
    known = set(Municipality.objects.values_list("number", flat=True))
    if not known:
        raise ReferenceDataError("Import municipalities before population.")
    cells = []
    for line, row in enumerate(rows, start=2):
        number = row["kommunenummer"].strip()
        if number not in known:
            raise ReferenceDataError(f"{path.name}, line {line}: unknown municipality {number}")
        try:
            age, population = int(row["age"]), int(row["population"])
        except ValueError:
            raise ReferenceDataError(
                f"{path.name}, line {line}: age and population must be whole numbers"
            ) from None
        if age < 0 or population < 0:
            raise ReferenceDataError(f"{path.name}, line {line}: negative value")
        cells.append(
            PopulationByAge(municipality_id=number, year=year, age=age, population=population)
        )
    stored = PopulationByAge.objects.filter(year=year)
    current = set(stored.values_list("municipality_id", "age", "population"))
    if current == {(c.municipality_id, c.age, c.population) for c in cells}:
        return ImportResult(created=0, updated=0, unchanged=len(cells))
    before = len(current)
    stored.delete()
    PopulationByAge.objects.bulk_create(cells, batch_size=2000)
    return ImportResult(created=max(len(cells) - before, 0), updated=min(before, len(cells)))


@transaction.atomic
def health_trusts_import(*, path: Path = DATA_FILES / "health-trusts.csv") -> ImportResult:
    """Import catchment areas, and a helsefellesskap unit per area with its municipalities."""
    rows = _read_csv(
        path, {"kommunenummer", "bydelsnummer", "bydel", "opptaksomrade", "helseforetak", "rhf"}
    )
    known = set(Municipality.objects.values_list("number", flat=True))
    if not known:
        raise ReferenceDataError("Import municipalities before health trusts.")
    created = updated = 0
    for line, row in enumerate(rows, start=2):
        number = row["kommunenummer"].strip()
        if number not in known:
            raise ReferenceDataError(f"{path.name}, line {line}: unknown municipality {number}")
        area, _ = CatchmentArea.objects.update_or_create(
            name=row["opptaksomrade"].strip(),
            defaults={
                "health_trust": row["helseforetak"].strip(),
                "regional_authority": row["rhf"].strip(),
            },
        )
        _, was_created = CatchmentMembership.objects.update_or_create(
            municipality_id=number,
            district_number=row["bydelsnummer"].strip(),
            defaults={"district_name": row["bydel"].strip(), "area": area},
        )
        created += was_created
        updated += not was_created
    for area in CatchmentArea.objects.all():
        partnership_for_area(area)
    return ImportResult(created, updated)


def partnership_for_area(area: CatchmentArea) -> OrganisationUnit:
    """The helsefellesskap unit of a catchment area, covering its municipalities."""
    unit, _ = OrganisationUnit.objects.get_or_create(
        code=f"helsefellesskap-{slug_norwegian(area.name)}",
        defaults={"name": f"Helsefellesskapet {area.name}", "kind": UnitKind.PARTNERSHIP},
    )
    numbers = area.members.values_list("municipality_id", flat=True).distinct()
    unit.municipalities.set(Municipality.objects.filter(number__in=numbers))
    return unit


_NORWEGIAN_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})


def slug_norwegian(text: str) -> str:
    """A slug with æ, ø and å spelt out (Django's slugify would drop ø and æ)."""
    from django.utils.text import slugify

    return slugify(text.translate(_NORWEGIAN_LETTERS))


def reference_data_load() -> dict[str, ImportResult]:
    """Load every packaged reference file and the role groups. Safe to run again."""
    return {
        "roles": (roles_setup(), ImportResult(0, 0))[1],
        "municipalities": municipalities_import(),
        "population": population_import(),
        "health_trusts": health_trusts_import(),
        "needs": _needs_import(),
    }


def _needs_import() -> ImportResult:
    from samhandling.directory.services.reference import needs_import

    return needs_import()


def units_with_descendants(units: Iterable[OrganisationUnit]) -> set[int]:
    """Ids of the given units and every unit below them."""
    ids = {u.pk for u in units}
    frontier = set(ids)
    while frontier:
        frontier = (
            set(
                OrganisationUnit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            - ids
        )
        ids |= frontier
    return ids


# --- requests ---------------------------------------------------------------------------


def client_address(request: Any) -> str:
    """The address the request came from, for rate limits only (never stored).

    Behind `SAMHANDLING_PROXY_COUNT` reverse proxies the peer is the last proxy, so the
    client is the address that many hops back in X-Forwarded-For.
    """
    proxies = settings.SAMHANDLING_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# --- texts in bokmål and nynorsk --------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text in the reader's language, or in the other one with a note saying so."""

    text: str
    lang: str
    fallback_note: str = ""

    def __str__(self) -> str:
        return self.text


def reader_language() -> str:
    return "nn" if (get_language() or "nb")[:2] == "nn" else "nb"


def pick(value: Any, language: str | None = None) -> Text:
    """The text of a {"nb", "nn"} object in `language` (the reader's), else the other one."""
    value = value if isinstance(value, dict) else {}
    wanted = language or reader_language()
    other = "nb" if wanted == "nn" else "nn"
    if value.get(wanted):
        return Text(value[wanted], wanted)
    if value.get(other):
        note = (
            _("Not written in nynorsk yet: shown in bokmål.")
            if other == "nb"
            else _("Not written in bokmål: shown in nynorsk.")
        )
        return Text(value[other], other, note)
    return Text("", wanted)

"""Generate a large, realistic, deterministic service directory for the benchmarks.

Run after `samhandling migrate` and `samhandling load_reference`, against a throwaway
database (a SAMHANDLING_DATA_DIR of its own, or a DATABASE_URL you created):

    SAMHANDLING_HTTPS=false SAMHANDLING_DATA_DIR=/tmp/bench-var \\
        .venv/bin/python bench/generate_services.py --count 50000

Everything it creates hangs off organisation units whose code starts with `bench-`, so
`--reset` removes exactly what an earlier run made. The same seed gives the same rows.
"""

import argparse
import datetime as dt
import math
import os
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

UNIT_PREFIX = "bench-"
TODAY = dt.date(2026, 11, 23)
BATCH = 2000

# Share of services by coverage; national ones are few, as in the real directory.
COVERAGE_WEIGHTS = {"municipal": 0.88, "regional": 0.11, "national": 0.01}
# Pyramid level by coverage: specialist services are mostly regional (BUP, DPS, TSB).
LEVEL_WEIGHTS = {
    "municipal": {"universal": 0.35, "early": 0.38, "targeted": 0.25, "specialist": 0.02},
    "regional": {"universal": 0.05, "early": 0.15, "targeted": 0.20, "specialist": 0.60},
    "national": {"universal": 0.30, "early": 0.40, "targeted": 0.15, "specialist": 0.15},
}
REFERRAL_SHARE = {"universal": 0.02, "early": 0.10, "targeted": 0.45, "specialist": 0.92}
AGE_RANGES = [
    ((0, 120), 0.18),
    ((12, 25), 0.20),
    ((13, 19), 0.10),
    ((16, 25), 0.08),
    ((6, 18), 0.08),
    ((0, 18), 0.10),
    ((12, 18), 0.08),
    ((18, 120), 0.12),
    ((15, 30), 0.03),
    ((0, 6), 0.03),
]
KINDS_NB = {
    "universal": [
        "Helsestasjon for ungdom",
        "Fritidsklubb",
        "Ungdomskontakt",
        "Foreldreveiledning",
    ],
    "early": ["Psykisk helse barn og unge", "Familiesenter", "Skolehelsetjenesten", "Ung arena"],
    "targeted": ["Rustjeneste", "Psykisk helse og rus", "Oppfølgingsteam", "Traumeteam"],
    "specialist": ["BUP", "DPS poliklinikk", "TSB ungdomsteam", "Spiseforstyrrelsesteam"],
}
NN_WORDS = {"Skolehelsetjenesten": "Skulehelsetenesta", "Rustjeneste": "Rusteneste"}
REFERRERS = ["gp", "municipal", "child_welfare", "police", "specialist", "self"]
OPENING_STARTS = ["07:30", "08:00", "08:00", "08:30", "09:00", "10:00", "12:00", "14:00", "17:00"]


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samhandling.config.settings")
    os.environ.setdefault("SAMHANDLING_HTTPS", "false")
    import django

    django.setup()


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _weekly_hours(rng: random.Random) -> list[tuple[int, dt.time, dt.time]]:
    """2–6 intervals, mostly on weekdays, some split days and some evenings/weekends."""
    count = rng.randint(2, 6)
    rows: list[tuple[int, dt.time, dt.time]] = []
    days = rng.sample(range(5), k=min(count, 5))
    if count > 5 or rng.random() < 0.15:
        days.append(rng.choice([5, 6]))
    for day in days[:count]:
        start = _time(rng.choice(OPENING_STARTS))
        hours = rng.choice([2, 3, 4, 6, 7, 8])
        end_hour = min(start.hour + hours, 23)
        rows.append((day, start, dt.time(end_hour, start.minute if end_hour < 23 else 0)))
    # A split day (closed for lunch): a second interval on one of the days, if room is left.
    if len(rows) < count and rows and rows[0][2] <= dt.time(15, 0):
        day, _opens, closes = rows[0]
        rows.append((day, dt.time(closes.hour + 1, 0), dt.time(min(closes.hour + 4, 23), 0)))
    return [row for row in rows if row[1] < row[2]]


def _exceptions(rng: random.Random) -> list[tuple[dt.date, bool, dt.time | None, dt.time | None]]:
    rows = []
    for _ in range(rng.randint(1, 3)):
        day = TODAY + dt.timedelta(days=rng.randint(-20, 60))
        if rng.random() < 0.6:
            rows.append((day, True, None, None))
        else:
            rows.append((day, False, dt.time(rng.choice([9, 10, 12]), 0), dt.time(15, 0)))
    return sorted(set(rows), key=lambda row: (row[0], row[2] or dt.time(0)))


def _delete_previous() -> int:
    from samhandling.core.models import OrganisationUnit
    from samhandling.directory.models import Service

    services = Service.objects.filter(unit__code__startswith=UNIT_PREFIX)
    deleted = services.count()
    # Cascades to hours, exceptions, versions and the many-to-many rows.
    services.delete()
    units = OrganisationUnit.objects.filter(code__startswith=UNIT_PREFIX)
    units.filter(parent__isnull=False).delete()
    units.delete()
    return deleted


def _units(municipalities: list, counties: dict[str, list]) -> dict[str, object]:
    """One unit per municipality, per county and one national unit, all `bench-…`."""
    from samhandling.core.models import OrganisationUnit, UnitKind

    wanted = [
        OrganisationUnit(
            code=f"{UNIT_PREFIX}national", name="Bench national", kind=UnitKind.NATIONAL
        )
    ]
    wanted += [
        OrganisationUnit(
            code=f"{UNIT_PREFIX}fylke-{number}",
            name=f"Bench {names[0].county_name}",
            kind=UnitKind.HEALTH_TRUST,
        )
        for number, names in counties.items()
    ]
    wanted += [
        OrganisationUnit(
            code=f"{UNIT_PREFIX}kommune-{m.number}",
            name=f"{m.name} kommune (bench)",
            kind=UnitKind.MUNICIPALITY,
        )
        for m in municipalities
    ]
    OrganisationUnit.objects.bulk_create(wanted, ignore_conflicts=True)
    return {u.code: u for u in OrganisationUnit.objects.filter(code__startswith=UNIT_PREFIX)}


def _municipality_weights(municipalities: list) -> list[float]:
    """Services per municipality grow with the square root of its population."""
    from django.db.models import Sum

    from samhandling.core.models import PopulationByAge

    totals = dict(
        PopulationByAge.objects.values_list("municipality_id").annotate(total=Sum("population"))
    )
    return [math.sqrt(totals.get(m.number, 1000)) for m in municipalities]


def services_generate(*, count: int, seed: int = 2026, reset: bool = False) -> dict[str, int]:
    """Create `count` services with their relations in bulk; returns row counts per table."""
    from django.db import transaction

    from samhandling.core.models import Municipality
    from samhandling.directory.models import Need, OpeningException, OpeningHours, Service

    rng = random.Random(seed)
    municipalities = list(Municipality.objects.order_by("number"))
    if len(municipalities) < 300:
        raise SystemExit("Load the reference data first: samhandling load_reference")
    needs = list(Need.objects.order_by("code"))
    if not needs:
        raise SystemExit("No needs in the database: samhandling load_reference")
    counties: dict[str, list] = {}
    for m in municipalities:
        counties.setdefault(m.county_number, []).append(m)
    county_numbers = sorted(counties)
    weights = _municipality_weights(municipalities)

    counts = {"services": 0, "municipality_links": 0, "need_links": 0, "hours": 0, "exceptions": 0}
    with transaction.atomic():
        if reset:
            counts["deleted"] = _delete_previous()
        units = _units(municipalities, counties)
        municipal_picks = rng.choices(municipalities, weights=weights, k=count)
        serial = 0
        for start in range(0, count, BATCH):
            batch: list[tuple[Service, list[str], list[int], list, list]] = []
            for index in range(start, min(start + BATCH, count)):
                serial += 1
                coverage = _pick(rng, COVERAGE_WEIGHTS)
                level = _pick(rng, LEVEL_WEIGHTS[coverage])
                if coverage == "municipal":
                    home = municipal_picks[index]
                    covered = [home.number]
                    unit = units[f"{UNIT_PREFIX}kommune-{home.number}"]
                    place = home.name
                elif coverage == "regional":
                    county = rng.choice(county_numbers)
                    covered = [m.number for m in counties[county]]
                    unit = units[f"{UNIT_PREFIX}fylke-{county}"]
                    place = counties[county][0].county_name
                else:
                    covered = []
                    unit = units[f"{UNIT_PREFIX}national"]
                    place = "Norge"
                kind = rng.choice(KINDS_NB[level])
                ages = rng.choices(
                    [r for r, _w in AGE_RANGES], weights=[w for _r, w in AGE_RANGES]
                )[0]
                referral = rng.random() < REFERRAL_SHARE[level]
                channels = {
                    "offers_drop_in": rng.random() < (0.05 if referral else 0.35),
                    "offers_phone": rng.random() < 0.85,
                    "offers_sms": rng.random() < 0.25,
                    "offers_chat": rng.random() < (0.5 if coverage == "national" else 0.1),
                    "offers_web_form": rng.random() < 0.3,
                }
                if not any(channels.values()):
                    channels["offers_phone"] = True
                always_open = rng.random() < (0.2 if coverage == "national" else 0.015)
                name = f"{kind} {place} {serial}"
                service = Service(
                    code=_uuid(rng),
                    name_nb=name,
                    name_nn=f"{NN_WORDS.get(kind, kind)} {place} {serial}",
                    description_nb=f"{kind} for {place}. Generert testdata for ytelsesmåling.",
                    how_to_nb="Ring eller kom innom." if not referral else "Henvisning fra lege.",
                    unit=unit,
                    coverage=coverage,
                    level=level,
                    age_min=ages[0],
                    age_max=ages[1],
                    referral_required=referral,
                    referrers=sorted(rng.sample(REFERRERS, k=rng.randint(1, 3)))
                    if referral
                    else [],
                    always_open=always_open,
                    open_on_holidays=always_open or rng.random() < 0.08,
                    street_address=f"Testveien {rng.randint(1, 200)}",
                    postal_code=f"{rng.randint(1, 9999):04d}",
                    city=place if coverage != "national" else "Oslo",
                    latitude=Decimal(f"{rng.uniform(58.0, 70.5):.6f}"),
                    longitude=Decimal(f"{rng.uniform(5.0, 30.0):.6f}"),
                    phone=f"+47 {rng.randint(20000000, 99999999)}",
                    email=f"tjeneste{serial}@example.invalid",
                    last_verified=TODAY - dt.timedelta(days=rng.randint(0, 730)),
                    is_active=rng.random() > 0.02,
                    **channels,
                )
                need_ids = [n.pk for n in rng.sample(needs, k=rng.randint(1, 3))]
                hours = [] if always_open else _weekly_hours(rng)
                exceptions = _exceptions(rng) if not always_open and rng.random() < 0.15 else []
                batch.append((service, covered, need_ids, hours, exceptions))

            created = Service.objects.bulk_create([row[0] for row in batch], batch_size=BATCH)
            links = Service.municipalities.through
            needs_through = Service.needs.through
            municipality_rows, need_rows, hour_rows, exception_rows = [], [], [], []
            for service, (_s, covered, need_ids, hours, exceptions) in zip(
                created, batch, strict=True
            ):
                municipality_rows += [
                    links(service_id=service.pk, municipality_id=n) for n in covered
                ]
                need_rows += [needs_through(service_id=service.pk, need_id=n) for n in need_ids]
                hour_rows += [
                    OpeningHours(service_id=service.pk, weekday=d, opens=o, closes=c)
                    for d, o, c in hours
                ]
                exception_rows += [
                    OpeningException(
                        service_id=service.pk, date=day, closed=closed, opens=o, closes=c
                    )
                    for day, closed, o, c in exceptions
                ]
            links.objects.bulk_create(municipality_rows, batch_size=5000)
            needs_through.objects.bulk_create(need_rows, batch_size=5000)
            OpeningHours.objects.bulk_create(hour_rows, batch_size=5000)
            OpeningException.objects.bulk_create(exception_rows, batch_size=5000)
            counts["services"] += len(created)
            counts["municipality_links"] += len(municipality_rows)
            counts["need_links"] += len(need_rows)
            counts["hours"] += len(hour_rows)
            counts["exceptions"] += len(exception_rows)
    return counts


def database_analyze() -> None:
    """Refresh the planner statistics (what autovacuum does on PostgreSQL, nothing on SQLite)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000, help="services to create")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reset", action="store_true", help="remove earlier bench rows first")
    parser.add_argument(
        "--analyze",
        choices=["auto", "yes", "no"],
        default="auto",
        help="run ANALYZE afterwards (auto: on PostgreSQL only, as autovacuum would)",
    )
    args = parser.parse_args(argv)
    _setup_django()
    from django.db import connection

    started = time.perf_counter()
    counts = services_generate(count=args.count, seed=args.seed, reset=args.reset)
    if args.analyze == "yes" or (args.analyze == "auto" and connection.vendor == "postgresql"):
        database_analyze()
        counts["analyzed"] = 1
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{value} {name}" for name, value in counts.items())
    print(f"{connection.vendor}: {summary} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()

"""Who may edit a service; create and update with a version per change; verification.

Every write goes through `service_create`, `service_update` or `service_verify`: each checks
permission, validates, saves and records a `ServiceVersion` in one transaction, so the version
history is complete. Edits carry the version they were based on; a stale edit is refused
rather than silently overwriting a colleague's change.
"""

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality, OrganisationUnit
from samhandling.core.services import units_with_descendants
from samhandling.directory.models import (
    Coverage,
    Level,
    Need,
    OpeningException,
    OpeningHours,
    Referrer,
    Service,
    ServiceVersion,
    Weekday,
)

EDIT_ANY = "directory.edit_any_service"
CHANGE = "directory.change_service"
ADD = "directory.add_service"

# Long enough for any real description, short enough that a pasted document is refused.
TEXT_MAX_LENGTH = 5000
LONG_TEXT_FIELDS = (
    "description_nb",
    "description_nn",
    "how_to_nb",
    "how_to_nn",
)

# Plain model fields an edit may set, in the order the form and the diff show them.
SCALAR_FIELDS = (
    "name_nb",
    "name_nn",
    "description_nb",
    "description_nn",
    "how_to_nb",
    "how_to_nn",
    "unit",
    "coverage",
    "level",
    "age_min",
    "age_max",
    "offers_drop_in",
    "offers_phone",
    "offers_sms",
    "offers_chat",
    "offers_web_form",
    "referral_required",
    "referrers",
    "always_open",
    "open_on_holidays",
    "street_address",
    "postal_code",
    "city",
    "latitude",
    "longitude",
    "phone",
    "sms_number",
    "email",
    "website",
    "chat_url",
    "is_active",
)
M2M_FIELDS = ("municipalities", "needs")

# Every key of a snapshot, in display order.
SNAPSHOT_FIELDS = (
    *SCALAR_FIELDS[: SCALAR_FIELDS.index("level")],
    "municipalities",
    *SCALAR_FIELDS[SCALAR_FIELDS.index("level") : SCALAR_FIELDS.index("offers_drop_in")],
    "needs",
    *SCALAR_FIELDS[SCALAR_FIELDS.index("offers_drop_in") :],
    "last_verified",
    "is_demo",
    "hours",
    "exceptions",
)

EXTRA_LABELS = {
    "hours": gettext_lazy("Weekly opening hours"),
    "exceptions": gettext_lazy("Exceptions to the opening hours"),
}


class EditConflict(ValidationError):
    """Another edit was saved after the one this edit was based on."""


# --- permission ----------------------------------------------------------------------


def _own_unit_ids(user: Any) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return units_with_descendants(user.units.all())


def service_may_edit(*, user: Any, service: Service) -> bool:
    """Editors edit any service; staff with change permission edit their units' services."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.has_perm(EDIT_ANY):
        return True
    return user.has_perm(CHANGE) and service.unit_id in _own_unit_ids(user)


def services_editable_by(*, user: Any) -> QuerySet[Service]:
    """The services `user` may edit."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Service.objects.none()
    if user.has_perm(EDIT_ANY):
        return Service.objects.all()
    if not user.has_perm(CHANGE):
        return Service.objects.none()
    return Service.objects.filter(unit_id__in=_own_unit_ids(user))


def units_placeable_by(*, user: Any) -> QuerySet[OrganisationUnit]:
    """The units `user` may put a service under."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return OrganisationUnit.objects.none()
    if user.has_perm(EDIT_ANY):
        return OrganisationUnit.objects.all()
    return OrganisationUnit.objects.filter(pk__in=_own_unit_ids(user))


def service_may_create(*, user: Any, unit: OrganisationUnit | None = None) -> bool:
    """Users with add permission create services in their own units (editors: anywhere)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.has_perm(ADD):
        return False
    if user.has_perm(EDIT_ANY):
        return True
    own = _own_unit_ids(user)
    return bool(own) if unit is None else unit.pk in own


def _may_place(user: Any, unit: OrganisationUnit) -> bool:
    return user.has_perm(EDIT_ANY) or unit.pk in _own_unit_ids(user)


# --- snapshot ------------------------------------------------------------------------


def _time_text(value: dt.time | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.6f}"


def _referrers_sorted(codes: Iterable[str]) -> list[str]:
    order = {code: i for i, code in enumerate(Referrer.values)}
    return sorted(set(codes), key=lambda c: (order.get(c, len(order)), c))


def service_snapshot(*, service: Service) -> dict[str, Any]:
    """Every field, relation, weekly hours and exceptions as JSON-ready values, stably ordered."""
    unit_code = OrganisationUnit.objects.filter(pk=service.unit_id).values_list("code", flat=True)
    snap: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        if name == "unit":
            snap[name] = unit_code.first()
        elif name == "municipalities":
            snap[name] = sorted(service.municipalities.values_list("number", flat=True))
        elif name == "needs":
            snap[name] = list(
                service.needs.order_by("sort_order", "code").values_list("code", flat=True)
            )
        elif name == "referrers":
            snap[name] = _referrers_sorted(service.referrers or [])
        elif name in ("latitude", "longitude"):
            snap[name] = _decimal_text(getattr(service, name))
        elif name == "last_verified":
            snap[name] = service.last_verified.isoformat() if service.last_verified else None
        elif name == "hours":
            snap[name] = [
                {"weekday": h.weekday, "opens": _time_text(h.opens), "closes": _time_text(h.closes)}
                for h in service.hours.order_by("weekday", "opens", "closes")
            ]
        elif name == "exceptions":
            snap[name] = [
                {
                    "date": e.date.isoformat(),
                    "closed": e.closed,
                    "opens": _time_text(e.opens),
                    "closes": _time_text(e.closes),
                    "note": e.note,
                }
                for e in service.exceptions.order_by("date", "opens", "closes", "note")
            ]
        else:
            snap[name] = getattr(service, name)
    return snap


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), after.get(name)]
        for name in SNAPSHOT_FIELDS
        if before.get(name) != after.get(name)
    }


# --- validation ----------------------------------------------------------------------


def _as_time(value: Any) -> dt.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("Enter a time such as 08:30.")) from None


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("Enter a date such as 2026-12-24.")) from None


def _keys(values: Iterable[Any], attr: str) -> list[str]:
    return [str(getattr(v, attr, v)) for v in values]


def _weekday_label(weekday: int) -> str:
    return str(Weekday(weekday).label) if weekday in Weekday.values else str(weekday)


def hours_problems(*, hours: Sequence[Mapping[str, Any]]) -> list[str]:
    """Messages for weekly intervals that are malformed or overlap on the same day."""
    problems: list[str] = []
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in hours:
        weekday = row.get("weekday")
        opens, closes = row.get("opens"), row.get("closes")
        if weekday not in Weekday.values:
            problems.append(_("Choose a weekday for every opening interval."))
            continue
        if opens is None or closes is None:
            problems.append(
                _("Give both an opening and a closing time for %(day)s.")
                % {"day": _weekday_label(weekday)}
            )
            continue
        if opens >= closes:
            problems.append(
                _("On %(day)s the service must open before it closes (%(opens)s–%(closes)s).")
                % {
                    "day": _weekday_label(weekday),
                    "opens": _time_text(opens),
                    "closes": _time_text(closes),
                }
            )
            continue
        by_day.setdefault(weekday, []).append((opens, closes))
    for weekday, intervals in sorted(by_day.items()):
        intervals.sort()
        if any(b[0] < a[1] for a, b in pairwise(intervals)):
            problems.append(
                _("The opening intervals on %(day)s overlap.") % {"day": _weekday_label(weekday)}
            )
    return problems


def exceptions_problems(*, exceptions: Sequence[Mapping[str, Any]]) -> list[str]:
    """Messages for exceptions that are both closed and timed, half-timed, or overlapping."""
    problems: list[str] = []
    by_date: dict[dt.date, list[tuple[bool, dt.time | None, dt.time | None]]] = {}
    for row in exceptions:
        date = row.get("date")
        if date is None:
            problems.append(_("Give a date for every exception."))
            continue
        closed = bool(row.get("closed"))
        opens, closes = row.get("opens"), row.get("closes")
        day = formats.date_format(date, "SHORT_DATE_FORMAT")
        if closed and (opens is not None or closes is not None):
            problems.append(
                _("%(date)s is marked closed all day but also has opening times. Choose one.")
                % {"date": day}
            )
            continue
        if not closed and (opens is None or closes is None):
            problems.append(
                _("Give both an opening and a closing time for %(date)s, or mark it closed.")
                % {"date": day}
            )
            continue
        if not closed and opens >= closes:
            problems.append(
                _("On %(date)s the service must open before it closes.") % {"date": day}
            )
            continue
        if len(str(row.get("note") or "")) > 200:
            problems.append(
                _("The note for %(date)s is longer than 200 characters.") % {"date": day}
            )
            continue
        by_date.setdefault(date, []).append((closed, opens, closes))
    for date, rows in sorted(by_date.items()):
        day = formats.date_format(date, "SHORT_DATE_FORMAT")
        if len(rows) > 1 and any(closed for closed, _o, _c in rows):
            problems.append(
                _("%(date)s is listed as closed and also as open. Keep one.") % {"date": day}
            )
            continue
        intervals = sorted((o, c) for _cl, o, c in rows)
        if any(b[0] < a[1] for a, b in pairwise(intervals)):
            problems.append(_("The opening times on %(date)s overlap.") % {"date": day})
    return problems


def _clean_hours(hours: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in hours:
        weekday = row.get("weekday")
        rows.append(
            {
                "weekday": int(weekday) if weekday not in (None, "") else None,
                "opens": _as_time(row.get("opens")),
                "closes": _as_time(row.get("closes")),
            }
        )
    problems = hours_problems(hours=rows)
    if problems:
        raise ValidationError({"hours": problems})
    return rows


def _clean_exceptions(exceptions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in exceptions:
        date = row.get("date")
        rows.append(
            {
                "date": _as_date(date) if date not in (None, "") else None,
                "closed": bool(row.get("closed")),
                "opens": _as_time(row.get("opens")),
                "closes": _as_time(row.get("closes")),
                "note": str(row.get("note") or "").strip(),
            }
        )
    problems = exceptions_problems(exceptions=rows)
    if problems:
        raise ValidationError({"exceptions": problems})
    return rows


def _clean_relations(data: Mapping[str, Any]) -> dict[str, list[str]]:
    relations: dict[str, list[str]] = {}
    if "municipalities" in data:
        numbers = sorted(set(_keys(data["municipalities"] or [], "number")))
        found = Municipality.objects.filter(number__in=numbers).count()
        if found != len(numbers):
            raise ValidationError({"municipalities": _("One of the municipalities is unknown.")})
        relations["municipalities"] = numbers
    if "needs" in data:
        codes = sorted(set(_keys(data["needs"] or [], "code")))
        if Need.objects.filter(code__in=codes).count() != len(codes):
            raise ValidationError({"needs": _("One of the needs is unknown.")})
        relations["needs"] = codes
    return relations


def _apply_scalars(service: Service, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(SCALAR_FIELDS) - set(M2M_FIELDS)
    if unknown:
        # A programming error, not user input: name the fields so it is found fast.
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    for name in SCALAR_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "referrers":
            value = _referrers_sorted(value or [])
        elif isinstance(value, str):
            value = value.strip()
        setattr(service, name, value)


def _validate_service(service: Service, relations: Mapping[str, list[str]]) -> None:
    errors: dict[str, list[str]] = {}
    for name in LONG_TEXT_FIELDS:
        if len(getattr(service, name) or "") > TEXT_MAX_LENGTH:
            errors.setdefault(name, []).append(
                _("Keep this under %(max)d characters.") % {"max": TEXT_MAX_LENGTH}
            )
    ages = (service.age_min, service.age_max)
    if None not in ages and ages[0] > ages[1]:
        errors.setdefault("age_max", []).append(
            _("The oldest age must be the same as or higher than the youngest age.")
        )
    bad_referrers = set(service.referrers or []) - set(Referrer.values)
    if bad_referrers:
        errors.setdefault("referrers", []).append(_("One of the referrers is unknown."))
    municipalities = relations.get("municipalities")
    if municipalities is None and service.pk:
        municipalities = list(service.municipalities.values_list("number", flat=True))
    if service.coverage != Coverage.NATIONAL and not municipalities:
        errors.setdefault("municipalities", []).append(
            _("Choose the municipalities the service covers.")
        )
    if errors:
        raise ValidationError(errors)
    # The model's own rules: lengths, choices, e-mail and URL formats, the age constraint.
    service.full_clean(exclude=["code"], validate_unique=False)


def _write_related(
    service: Service,
    relations: Mapping[str, list[str]],
    hours: list[dict[str, Any]] | None,
    exceptions: list[dict[str, Any]] | None,
) -> None:
    if "municipalities" in relations:
        service.municipalities.set(relations["municipalities"])
    if "needs" in relations:
        service.needs.set(Need.objects.filter(code__in=relations["needs"]))
    if hours is not None:
        service.hours.all().delete()
        OpeningHours.objects.bulk_create(OpeningHours(service=service, **row) for row in hours)
    if exceptions is not None:
        service.exceptions.all().delete()
        OpeningException.objects.bulk_create(
            OpeningException(service=service, **row) for row in exceptions
        )


def _latest_number(service: Service) -> int:
    return ServiceVersion.objects.filter(service=service).aggregate(n=Max("number"))["n"] or 0


def _record(
    *, service: Service, by: Any, before: dict[str, Any], latest: int
) -> ServiceVersion | None:
    """Write the version for a change, or roll back and return None if nothing changed."""
    service.refresh_from_db()
    after = service_snapshot(service=service)
    changes = _changes(before, after)
    if not changes:
        transaction.set_rollback(True)
        return None
    if latest == 0:
        # Loaded without a version (an import): keep the state before this edit as version 1.
        ServiceVersion.objects.create(service=service, number=1, author=None, snapshot=before)
        latest = 1
    return ServiceVersion.objects.create(
        service=service, number=latest + 1, author=by, snapshot=after, changes=changes
    )


def service_record_import(*, service: Service) -> ServiceVersion | None:
    """Write a version (no author) after an import changed a service; None if nothing changed."""
    service.refresh_from_db()
    after = service_snapshot(service=service)
    previous = ServiceVersion.objects.filter(service=service).order_by("-number").first()
    if previous is None:
        return ServiceVersion.objects.create(service=service, number=1, snapshot=after)
    changes = _changes(previous.snapshot, after)
    if not changes:
        return None
    return ServiceVersion.objects.create(
        service=service, number=previous.number + 1, snapshot=after, changes=changes
    )


def _check_conflict(service: Service, base_version: int, latest: int) -> None:
    # Verification only stamps last_verified, which no edit form touches: it is no conflict.
    later = ServiceVersion.objects.filter(service=service, number__gt=base_version)
    edited = any(set(c) - {"last_verified"} for c in later.values_list("changes", flat=True))
    if edited or not 0 <= base_version <= latest:
        raise EditConflict(
            _(
                "Someone else saved a change to this service after you opened it. "
                "Your changes were not saved. Open the service again to see the latest "
                "version, then make your change once more."
            ),
            code="conflict",
        )


# --- writes --------------------------------------------------------------------------


@transaction.atomic
def service_create(
    *,
    by: Any,
    data: Mapping[str, Any],
    hours: Iterable[Mapping[str, Any]] = (),
    exceptions: Iterable[Mapping[str, Any]] = (),
    today: dt.date | None = None,
) -> Service:
    """Create a service in a unit `by` may use, verified today, and write version 1."""
    unit = data.get("unit")
    if not isinstance(unit, OrganisationUnit) or not service_may_create(user=by, unit=unit):
        raise PermissionDenied(_("You may not add services to this unit."))
    service = Service(last_verified=today or timezone.localdate())
    _apply_scalars(service, data)
    relations = _clean_relations(data)
    _validate_service(service, relations)
    clean_hours = _clean_hours(hours)
    clean_exceptions = _clean_exceptions(exceptions)
    service.save()
    _write_related(service, relations, clean_hours, clean_exceptions)
    ServiceVersion.objects.create(
        service=service, number=1, author=by, snapshot=service_snapshot(service=service)
    )
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    by: Any,
    data: Mapping[str, Any],
    hours: Iterable[Mapping[str, Any]] | None = None,
    exceptions: Iterable[Mapping[str, Any]] | None = None,
    base_version: int,
    verify: bool = False,
    today: dt.date | None = None,
) -> ServiceVersion | None:
    """Save an edit based on version `base_version`; None if it changed nothing.

    Fields missing from `data`, and hours or exceptions given as None, keep their value.
    """
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if not service_may_edit(user=by, service=locked):
        raise PermissionDenied(_("You may not edit this service."))
    latest = _latest_number(locked)
    _check_conflict(locked, base_version, latest)
    before = service_snapshot(service=locked)
    unit_before = locked.unit_id
    _apply_scalars(locked, data)
    if locked.unit_id != unit_before and not _may_place(by, locked.unit):
        raise PermissionDenied(_("You may not move the service to this unit."))
    if verify:
        locked.last_verified = today or timezone.localdate()
    relations = _clean_relations(data)
    _validate_service(locked, relations)
    clean_hours = None if hours is None else _clean_hours(hours)
    clean_exceptions = None if exceptions is None else _clean_exceptions(exceptions)
    locked.save()
    _write_related(locked, relations, clean_hours, clean_exceptions)
    version = _record(service=locked, by=by, before=before, latest=latest)
    if version is not None:
        service.refresh_from_db()
    return version


@transaction.atomic
def service_verify(
    *, service: Service, by: Any, today: dt.date | None = None
) -> ServiceVersion | None:
    """Confirm the entry is still correct: last_verified = today, recorded as a version."""
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if not service_may_edit(user=by, service=locked):
        raise PermissionDenied(_("You may not edit this service."))
    latest = _latest_number(locked)
    before = service_snapshot(service=locked)
    locked.last_verified = today or timezone.localdate()
    locked.save(update_fields=["last_verified", "updated_at"])
    version = _record(service=locked, by=by, before=before, latest=latest)
    if version is not None:
        service.refresh_from_db()
    return version


# --- verification due ----------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier; the month's last day when it has no such day."""
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def verify_cutoff(*, today: dt.date | None = None) -> dt.date:
    """Entries last verified before this date are due for verification."""
    return months_before(today or timezone.localdate(), settings.SAMHANDLING_VERIFY_MONTHS)


def services_unverified(*, user: Any, today: dt.date | None = None) -> QuerySet[Service]:
    """The user's active services never verified or verified too long ago, oldest first."""
    cutoff = verify_cutoff(today=today)
    return (
        services_editable_by(user=user)
        .filter(is_active=True)
        .filter(Q(last_verified__isnull=True) | Q(last_verified__lt=cutoff))
        .select_related("unit")
        .order_by(F("last_verified").asc(nulls_first=True), "name_nb", "pk")
    )


# --- readable history ----------------------------------------------------------------


def field_label(name: str) -> str:
    """The translated label of a snapshot key."""
    if name in EXTRA_LABELS:
        return str(EXTRA_LABELS[name])
    label = str(Service._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def _yes_no(value: bool) -> str:
    return gettext("Yes") if value else gettext("No")


def _hours_text(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        _("%(day)s %(opens)s–%(closes)s")
        % {"day": _weekday_label(r["weekday"]), "opens": r["opens"], "closes": r["closes"]}
        for r in rows
    )


def _exceptions_text(rows: list[dict[str, Any]]) -> str:
    lines = []
    for r in rows:
        day = formats.date_format(dt.date.fromisoformat(r["date"]), "SHORT_DATE_FORMAT")
        if r["closed"]:
            line = _("%(date)s closed") % {"date": day}
        else:
            line = _("%(date)s %(opens)s–%(closes)s") % {
                "date": day,
                "opens": r["opens"],
                "closes": r["closes"],
            }
        if r.get("note"):
            line = _("%(line)s (%(note)s)") % {"line": line, "note": r["note"]}
        lines.append(line)
    return "\n".join(lines)


def readable_value(name: str, value: Any) -> str:
    """One snapshot value as text for people; empty string when unset."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return _yes_no(value)
    if name == "unit":
        unit = OrganisationUnit.objects.filter(code=value).values_list("name", flat=True).first()
        return unit or str(value)
    if name == "municipalities":
        names = dict(Municipality.objects.filter(number__in=value).values_list("number", "name"))
        return ", ".join(f"{n} {names.get(n, '')}".strip() for n in value)
    if name == "needs":
        needs = {n.code: n.name for n in Need.objects.filter(code__in=value)}
        return ", ".join(needs.get(c, c) for c in value)
    if name == "referrers":
        labels = dict(Referrer.choices)
        return ", ".join(str(labels.get(c, c)) for c in value)
    if name == "level":
        return str(dict(Level.choices).get(value, value))
    if name == "coverage":
        return str(dict(Coverage.choices).get(value, value))
    if name == "last_verified":
        return formats.date_format(dt.date.fromisoformat(value), "DATE_FORMAT")
    if name == "hours":
        return _hours_text(value)
    if name == "exceptions":
        return _exceptions_text(value)
    return str(value)


def service_version_diff(*, version: ServiceVersion) -> list[tuple[str, str, str]]:
    """(field label, before, after) for each field the version changed, in form order."""
    changes = version.changes or {}
    return [
        (
            field_label(name),
            readable_value(name, changes[name][0]),
            readable_value(name, changes[name][1]),
        )
        for name in SNAPSHOT_FIELDS
        if name in changes
    ]


def service_version_fields(*, version: ServiceVersion) -> list[tuple[str, str]]:
    """(field label, value) for every field of the version's snapshot, in form order."""
    snap = version.snapshot or {}
    return [
        (field_label(name), readable_value(name, snap.get(name)))
        for name in SNAPSHOT_FIELDS
        if name in snap
    ]

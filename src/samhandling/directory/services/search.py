"""The public service search: filters from a query string, and the query, all in SQL."""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality
from samhandling.directory.models import (
    Channel,
    Coverage,
    Level,
    Need,
    OpeningException,
    OpeningHours,
    Service,
)
from samhandling.directory.services.opening import NEXT_OPENING_DAYS, local_moment, open_at_q

AGE_MIN, AGE_MAX = 0, 120
QUERY_MAX_LENGTH = 200
TRUE_VALUES = {"on", "true", "1", "yes"}
FALSE_VALUES = {"", "off", "false", "0", "no"}
LEVEL_ORDER = {level: position for position, level in enumerate(Level.values)}
_MUNICIPALITY_NUMBER = re.compile(r"^\d{4}$")

# Query-string key of each filter field, in the order filters are shown and widened.
QUERY_KEYS: dict[str, str] = {
    "municipality": "municipality",
    "age": "age",
    "needs": "need",
    "levels": "level",
    "channels": "channel",
    "no_referral": "no_referral",
    "open_now": "open_now",
    "q": "q",
}


def _values(query: Mapping[str, Any], key: str) -> list[str]:
    """Every non-blank value of `key`, from a QueryDict or a plain mapping."""
    if hasattr(query, "getlist"):
        raw = query.getlist(key)
    else:
        value = query.get(key)
        raw = value if isinstance(value, list | tuple) else ([] if value is None else [value])
    return [str(v).strip() for v in raw if str(v).strip()]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


@dataclass
class SearchFilters:
    """What the person searching asked for. Empty fields do not filter."""

    municipality: str | None = None
    age: int | None = None
    needs: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    no_referral: bool = False
    open_now: bool = False
    channels: list[str] = field(default_factory=list)
    q: str = ""
    # Field name → translated message, for values that were refused and left out.
    errors: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> "SearchFilters":
        """Parse and check a query string; refused values go to `errors`, not exceptions."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}

        municipality = _values(query, "municipality")
        if municipality:
            values["municipality"] = municipality[-1]

        age = _values(query, "age")
        if age:
            try:
                values["age"] = int(age[-1])
            except ValueError:
                errors["age"] = _age_message()

        values["needs"] = _unique(_values(query, "need"))
        values["levels"] = _unique(_values(query, "level"))
        values["channels"] = _unique(_values(query, "channel"))

        for name, message in (
            ("no_referral", _("“Without referral” must be on or off.")),
            ("open_now", _("“Open now” must be on or off.")),
        ):
            raw = _values(query, name)
            flag = raw[-1].lower() if raw else ""
            if flag in TRUE_VALUES:
                values[name] = True
            elif flag not in FALSE_VALUES:
                errors[name] = message

        text = " ".join(_values(query, "q"))
        if len(text) > QUERY_MAX_LENGTH:
            errors["q"] = _("The search text is too long: use at most %(max)d characters.") % {
                "max": QUERY_MAX_LENGTH
            }
        else:
            values["q"] = text

        filters = cls(**values)
        errors.update(filters.validate())
        # Leave refused values out, so the rest of the filters can still be shown and used.
        defaults = cls()
        for name in errors:
            setattr(filters, name, getattr(defaults, name))
        filters.errors = errors
        return filters

    def validate(self) -> dict[str, str]:
        """Check the values against the reference data; field name → translated message."""
        errors: dict[str, str] = {}
        if self.municipality is not None and not (
            _MUNICIPALITY_NUMBER.match(self.municipality)
            and self.municipality in known_municipality_numbers()
        ):
            errors["municipality"] = _(
                "Unknown municipality. Choose one from the list or give its four-digit number."
            )
        if self.age is not None and not AGE_MIN <= self.age <= AGE_MAX:
            errors["age"] = _age_message()
        if self.needs and set(self.needs) - known_need_codes():
            errors["needs"] = _("Unknown need. Choose needs from the list.")
        if set(self.levels) - set(Level.values):
            errors["levels"] = _("Unknown level of the intervention pyramid.")
        if set(self.channels) - set(Channel.values):
            errors["channels"] = _("Unknown way of getting in touch.")
        if len(self.q) > QUERY_MAX_LENGTH:
            errors["q"] = _("The search text is too long: use at most %(max)d characters.") % {
                "max": QUERY_MAX_LENGTH
            }
        return errors

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def active(self) -> list[str]:
        """The names of the fields that filter, in display order."""
        defaults = SearchFilters()
        return [name for name in QUERY_KEYS if getattr(self, name) != getattr(defaults, name)]

    def without(self, name: str) -> "SearchFilters":
        """A copy with one filter dropped."""
        default = next(f for f in fields(self) if f.name == name)
        empty = default.default_factory() if callable(default.default_factory) else default.default
        return replace(self, **{name: empty}, errors={})

    def to_query(self) -> str:
        """The filters as a query string, as the search form would send them."""
        pairs: list[tuple[str, str]] = []
        for name, key in QUERY_KEYS.items():
            value = getattr(self, name)
            if isinstance(value, list):
                pairs.extend((key, v) for v in value)
            elif isinstance(value, bool):
                if value:
                    pairs.append((key, "on"))
            elif value not in (None, ""):
                pairs.append((key, str(value)))
        return urlencode(pairs)


REFERENCE_CACHE_SECONDS = 300


def known_municipality_numbers() -> frozenset[str]:
    """Every kommunenummer, cached: checked on every search, changed once a year."""
    numbers = cache.get("directory:municipality-numbers")
    if numbers is None:
        numbers = frozenset(Municipality.objects.values_list("number", flat=True))
        cache.set("directory:municipality-numbers", numbers, REFERENCE_CACHE_SECONDS)
    return numbers


def known_need_codes() -> frozenset[str]:
    """Every need code, cached like the municipalities (reference data)."""
    codes = cache.get("directory:need-codes")
    if codes is None:
        codes = frozenset(Need.objects.values_list("code", flat=True))
        cache.set("directory:need-codes", codes, REFERENCE_CACHE_SECONDS)
    return codes


def _age_message() -> str:
    return _("Age must be a whole number from %(min)d to %(max)d.") % {
        "min": AGE_MIN,
        "max": AGE_MAX,
    }


def _filter_q(filters: SearchFilters, at: dt.datetime) -> Q:
    """The filters as one Q. Many-to-many filters are subqueries, so rows never repeat."""
    condition = Q(is_active=True)
    # A municipality narrows the search to a few hundred services; the other filters then
    # check each of those through an index rather than read every matching row once.
    narrow = bool(filters.municipality)
    if filters.municipality:
        covering = Service.municipalities.through.objects.filter(
            municipality_id=filters.municipality
        ).values("service_id")
        national = Service.objects.filter(coverage=Coverage.NATIONAL).order_by().values("pk")
        # One IN over a UNION, not "national OR IN (…)": the OR makes PostgreSQL scan every
        # service; the union lets both databases fetch the few hundred by primary key.
        condition &= Q(pk__in=covering.union(national))
    if filters.age is not None:
        condition &= Q(age_min__lte=filters.age, age_max__gte=filters.age)
    if filters.needs:
        serving = Service.needs.through.objects.filter(need__code__in=filters.needs)
        if narrow:
            condition &= Q(Exists(serving.filter(service_id=OuterRef("pk"))))
        else:
            condition &= Q(pk__in=serving.values("service_id"))
    if filters.levels:
        condition &= Q(level__in=filters.levels)
    if filters.channels:
        offers = Q()
        for channel in filters.channels:
            offers |= Q(**{f"offers_{channel}": True})
        condition &= offers
    if filters.no_referral:
        condition &= Q(referral_required=False)
    if filters.open_now:
        condition &= open_at_q(at=at, per_row=narrow)
    if filters.q:
        condition &= Q(name_nb__icontains=filters.q) | Q(name_nn__icontains=filters.q)
    return condition


def _level_order() -> Case:
    return Case(
        *(When(level=level, then=Value(position)) for level, position in LEVEL_ORDER.items()),
        output_field=IntegerField(),
    )


def _coming_exceptions(at: dt.datetime, exception_days: int) -> Prefetch:
    today = local_moment(at).date()
    # Only the coming exceptions: the cards' "opens next …" looks two weeks ahead.
    coming = OpeningException.objects.filter(
        date__gte=today, date__lte=today + dt.timedelta(days=exception_days)
    )
    return Prefetch("exceptions", queryset=coming)


def _with_card_data(
    queryset: QuerySet[Service], at: dt.datetime, exception_days: int
) -> QuerySet[Service]:
    return queryset.select_related("unit").prefetch_related(
        "needs", "municipalities", "hours", _coming_exceptions(at, exception_days)
    )


@dataclass(frozen=True)
class MunicipalityRef:
    number: str
    name: str
    county_name: str


@dataclass(frozen=True)
class NeedRef:
    code: str
    name_nb: str
    name_nn: str
    name_en: str

    @property
    def name(self) -> str:
        language = (get_language() or "nb")[:2]
        return getattr(self, f"name_{language}", "") or self.name_nb


class HoursRef(NamedTuple):
    weekday: int
    opens: dt.time
    closes: dt.time


class ExceptionRef(NamedTuple):
    date: dt.date
    closed: bool
    opens: dt.time | None
    closes: dt.time | None
    note: str


def _grouped(rows: Iterable[tuple], make: Callable[..., Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for service_id, *values in rows:
        grouped[service_id].append(make(*values))
    return grouped


def attach_links(
    services: list[Service],
    *,
    at: dt.datetime | None = None,
    exception_days: int = NEXT_OPENING_DAYS,
) -> list[Service]:
    """Give each service its municipalities, needs, weekly hours and coming exceptions.

    Read as plain tuples in four queries (`linked_municipalities`, `linked_needs`,
    `linked_hours`, `linked_exceptions`) rather than prefetched model instances: a page of
    regional services covers hundreds of municipalities, and building model objects for
    them cost more than the search itself. The opening-hours functions use the linked rows.
    """
    pks = [service.pk for service in services]
    municipalities = _grouped(
        Service.municipalities.through.objects.filter(service_id__in=pks)
        .order_by("municipality__name")
        .values_list(
            "service_id", "municipality_id", "municipality__name", "municipality__county_name"
        ),
        MunicipalityRef,
    )
    needs = _grouped(
        Service.needs.through.objects.filter(service_id__in=pks)
        .order_by("need__sort_order", "need__code")
        .values_list("service_id", "need__code", "need__name_nb", "need__name_nn", "need__name_en"),
        NeedRef,
    )
    hours = _grouped(
        OpeningHours.objects.filter(service_id__in=pks)
        .order_by("weekday", "opens")
        .values_list("service_id", "weekday", "opens", "closes"),
        HoursRef,
    )
    today = local_moment(at or timezone.now()).date()
    exceptions = _grouped(
        OpeningException.objects.filter(
            service_id__in=pks,
            date__gte=today,
            date__lte=today + dt.timedelta(days=exception_days),
        )
        .order_by("date", "opens")
        .values_list("service_id", "date", "closed", "opens", "closes", "note"),
        ExceptionRef,
    )
    for service in services:
        service.linked_municipalities = municipalities[service.pk]
        service.linked_needs = needs[service.pk]
        service.linked_hours = hours[service.pk]
        service.linked_exceptions = exceptions[service.pk]
    return services


SEARCH_ORDER = (_level_order(), "name_nb", "pk")


def service_search(
    *,
    filters: SearchFilters,
    at: dt.datetime | None = None,
    exception_days: int = NEXT_OPENING_DAYS,
) -> QuerySet[Service]:
    """Active services matching every filter, by pyramid level then name, ready for cards."""
    at = at or timezone.now()
    matching = Service.objects.filter(_filter_q(filters, at)).order_by(*SEARCH_ORDER)
    return _with_card_data(matching, at, exception_days)


@dataclass(frozen=True)
class SearchPage:
    total: int
    services: list[Service]


def search_page(
    *,
    filters: SearchFilters,
    at: dt.datetime | None = None,
    offset: int = 0,
    limit: int = 20,
    exception_days: int = NEXT_OPENING_DAYS,
) -> SearchPage:
    """One page of `service_search` and the total."""
    at = at or timezone.now()
    matching = Service.objects.filter(_filter_q(filters, at)).order_by(*SEARCH_ORDER)
    if not filters.municipality:
        # Thousands of matches: a COUNT, then the page, beats carrying a window count.
        total = matching.count()
        shown = list(matching.select_related("unit")[offset : offset + limit])
        return SearchPage(
            total=total, services=attach_links(shown, at=at, exception_days=exception_days)
        )
    # A few hundred matches: the total rides along on the page's rows (a window count), so
    # the filters are evaluated once instead of once for a COUNT and again for the page.
    rows = list(
        matching.annotate(total=Window(Count("pk"))).values_list("pk", "total")[
            offset : offset + limit
        ]
    )
    if not rows:
        total = matching.count() if offset else 0
        return SearchPage(total=total, services=[])
    shown = Service.objects.filter(pk__in=[pk for pk, _ in rows]).select_related("unit")
    by_pk = {service.pk: service for service in shown}
    services = attach_links([by_pk[pk] for pk, _ in rows], at=at, exception_days=exception_days)
    return SearchPage(total=rows[0][1], services=services)


def search_count(*, filters: SearchFilters, at: dt.datetime | None = None) -> int:
    """How many active services match the filters."""
    return Service.objects.filter(_filter_q(filters, at or timezone.now())).count()


@dataclass(frozen=True)
class Widening:
    """What dropping one filter would give."""

    name: str
    count: int
    filters: SearchFilters

    @property
    def query(self) -> str:
        return self.filters.to_query()


def search_widenings(*, filters: SearchFilters, at: dt.datetime | None = None) -> list[Widening]:
    """For each active filter, how many services there would be without it."""
    at = at or timezone.now()
    widenings = []
    for name in filters.active():
        wider = filters.without(name)
        count = search_count(filters=wider, at=at)
        widenings.append(Widening(name=name, count=count, filters=wider))
    return widenings

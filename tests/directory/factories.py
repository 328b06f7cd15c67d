"""Factories for directory tests. Services get weekday hours 08:00–16:00 unless told otherwise."""

import datetime as dt

import factory

from samhandling.core.models import OrganisationUnit, UnitKind
from samhandling.directory.models import (
    Coverage,
    Level,
    Need,
    OpeningException,
    OpeningHours,
    Service,
)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationUnit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"Unit {n}")
    kind = UnitKind.SERVICE_UNIT


class ServiceFactory(factory.django.DjangoModelFactory):
    """A municipal service in Horten (3901), weekdays 08–16, no referral needed."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    name_nb = factory.Sequence(lambda n: f"Tjeneste {n}")
    name_nn = factory.LazyAttribute(lambda o: f"{o.name_nb} (nn)")
    description_nb = "Beskrivelse"
    unit = factory.SubFactory(UnitFactory)
    coverage = Coverage.MUNICIPAL
    level = Level.EARLY
    age_min = 12
    age_max = 25
    offers_phone = True
    last_verified = factory.LazyFunction(lambda: dt.date(2026, 6, 1))

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create:
            self.municipalities.set(extracted if extracted is not None else ["3901"])

    @factory.post_generation
    def needs(self, create, extracted, **kwargs):
        if create and extracted:
            self.needs.set(Need.objects.filter(code__in=extracted))

    @factory.post_generation
    def weekly_hours(self, create, extracted, **kwargs):
        """Pass weekly_hours=[(weekday, "08:00", "16:00"), …]; default Mon–Fri 08–16."""
        if not create:
            return
        hours = extracted if extracted is not None else [(d, "08:00", "16:00") for d in range(5)]
        OpeningHours.objects.bulk_create(
            OpeningHours(
                service=self,
                weekday=day,
                opens=dt.time.fromisoformat(opens),
                closes=dt.time.fromisoformat(closes),
            )
            for day, opens, closes in hours
        )


def add_exception(
    service: Service,
    date: dt.date,
    opens: str | None = None,
    closes: str | None = None,
    note: str = "",
) -> OpeningException:
    """Closed all day when no times are given."""
    return OpeningException.objects.create(
        service=service,
        date=date,
        closed=opens is None,
        opens=dt.time.fromisoformat(opens) if opens else None,
        closes=dt.time.fromisoformat(closes) if closes else None,
        note=note,
    )


__all__ = ["Coverage", "Level", "ServiceFactory", "UnitFactory", "add_exception"]

"""Users, roles, organisation units, municipalities and the access log."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups with these names; see core/roles.py for their permissions."""

    YOUTH = "youth", _("Youth / patient")
    REFERRER = "referrer", _("Referrer")
    INTAKE = "intake", _("Intake team member")
    CLINICIAN = "clinician", _("Clinician / contact person")
    COORDINATOR = "coordinator", _("Coordinator")
    EDITOR = "editor", _("Editor")
    ANALYST = "analyst", _("Analyst / project leader")
    ADMIN = "admin", _("Administrator")


class Municipality(models.Model):
    """A kommune as of the 2024 structure, keyed by its 4-digit kommunenummer."""

    number = models.CharField(_("municipality number"), max_length=4, primary_key=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    official_name = models.CharField(_("official name"), max_length=200)
    county_number = models.CharField(_("county number"), max_length=2, db_index=True)
    county_name = models.CharField(_("county"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class PopulationByAge(models.Model):
    """Resident population on 1 January of `year`, per municipality and completed age."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="population"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    age = models.PositiveSmallIntegerField(_("age"), help_text=_("105 means 105 or older."))
    population = models.PositiveIntegerField(_("population"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year", "age"], name="population_unique_cell"
            )
        ]
        verbose_name = _("population by age")
        verbose_name_plural = _("population by age")

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.year} age {self.age}: {self.population}"


class CatchmentArea(models.Model):
    """The specialist health service area (opptaksområde) serving a set of municipalities."""

    name = models.CharField(_("area"), max_length=100, unique=True)
    health_trust = models.CharField(_("health trust"), max_length=200)
    regional_authority = models.CharField(_("regional health authority"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("catchment area")
        verbose_name_plural = _("catchment areas")

    def __str__(self) -> str:
        return self.name


class CatchmentMembership(models.Model):
    """One municipality, or for Oslo one city district, belonging to a catchment area."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="catchments"
    )
    district_number = models.CharField(_("district number"), max_length=6, blank=True)
    district_name = models.CharField(_("district"), max_length=100, blank=True)
    area = models.ForeignKey(CatchmentArea, on_delete=models.CASCADE, related_name="members")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "district_number"], name="catchment_unique_member"
            )
        ]

    def __str__(self) -> str:
        where = " ".join(filter(None, [self.municipality_id, self.district_number]))
        return f"{where} → {self.area_id}"


class UnitKind(models.TextChoices):
    PARTNERSHIP = "helsefellesskap", _("Regional partnership (helsefellesskap)")
    HEALTH_TRUST = "helseforetak", _("Health trust")
    MUNICIPALITY = "kommune", _("Municipality")
    CLINIC = "clinic", _("Clinic")
    SERVICE_UNIT = "service_unit", _("Service unit")
    TEAM = "team", _("Team")
    NATIONAL = "national", _("National service")
    OTHER = "other", _("Other organisation")


class OrganisationUnit(models.Model):
    """A node in the tree helsefellesskap → helseforetak / kommune → clinic / unit / team."""

    code = models.SlugField(_("code"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    municipalities = models.ManyToManyField(
        Municipality,
        blank=True,
        related_name="units",
        verbose_name=_("municipalities served"),
    )
    organisation_number = models.CharField(_("organisation number"), max_length=9, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list["OrganisationUnit"]:
        chain, node = [], self.parent
        while node is not None and node not in chain:
            chain.append(node)
            node = node.parent
        return chain

    def partnership(self) -> "OrganisationUnit | None":
        for unit in [self, *self.ancestors()]:
            if unit.kind == UnitKind.PARTNERSHIP:
                return unit
        return None


class User(AbstractUser):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    units = models.ManyToManyField(
        OrganisationUnit, blank=True, related_name="members", verbose_name=_("units")
    )
    hpr_number = models.CharField(
        _("HPR number"), max_length=9, blank=True, help_text=_("Health personnel number.")
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def role_names(self) -> set[str]:
        if not hasattr(self, "_role_names"):
            self._role_names = set(self.groups.values_list("name", flat=True))
        return self._role_names

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names() & set(roles))

    @property
    def is_staff_member(self) -> bool:
        """Any role but youth/patient: staff of a service, the intake team, editors, …"""
        return bool(self.role_names() - {Role.YOUTH})


class AccessPurpose(models.TextChoices):
    CARE = "care", _("Care and treatment")
    ASSESSMENT = "assessment", _("Assessment of referral")
    ADMINISTRATION = "administration", _("Administration")
    QUALITY = "quality", _("Quality assurance")
    PATIENT = "patient", _("The patient's own access")


class AccessLog(models.Model):
    """One read of identified personal data: who, in which role and unit, when, what, why.

    Holds identifiers and purpose only, never the data that was read.
    """

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="access_logs",
        verbose_name=_("who"),
    )
    actor_name = models.CharField(_("who (name at the time)"), max_length=300)
    actor_roles = models.CharField(_("role"), max_length=200)
    actor_units = models.CharField(_("unit"), max_length=500)
    object_type = models.CharField(_("record type"), max_length=100)
    object_key = models.CharField(_("record"), max_length=64, db_index=True)
    subject_key = models.CharField(
        _("person"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("Pseudonymous key of the person the record is about."),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=AccessPurpose.choices)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.object_type}:{self.object_key}"

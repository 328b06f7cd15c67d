"""Services (HealthcareService), their opening hours, needs served, and their versions."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from samhandling.core.models import Municipality, OrganisationUnit


class Level(models.TextChoices):
    """The intervention pyramid (tiltakspyramiden), from the base up."""

    UNIVERSAL = "universal", _("Universal and health-promoting")
    EARLY = "early", _("Early help")
    TARGETED = "targeted", _("Targeted municipal help")
    SPECIALIST = "specialist", _("Specialist health service")


# Map colours per level: distinct, and dark text on each passes WCAG AA contrast.
LEVEL_COLOURS: dict[str, str] = {
    Level.UNIVERSAL: "#9fd8a4",
    Level.EARLY: "#fde28a",
    Level.TARGETED: "#f9b97a",
    Level.SPECIALIST: "#a9c7ef",
}


class Coverage(models.TextChoices):
    MUNICIPAL = "municipal", _("Municipal")
    REGIONAL = "regional", _("Regional")
    NATIONAL = "national", _("National")


class Channel(models.TextChoices):
    DROP_IN = "drop_in", _("Drop-in")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    CHAT = "chat", _("Chat")
    WEB_FORM = "web_form", _("Web form")


class Referrer(models.TextChoices):
    SELF = "self", _("Self-referral")
    GP = "gp", _("GP (fastlege)")
    MUNICIPAL = "municipal", _("Municipal service")
    CHILD_WELFARE = "child_welfare", _("Child welfare")
    POLICE = "police", _("Police")
    PRISON = "prison", _("Prison service")
    LAWYER = "lawyer", _("Lawyer")
    SPECIALIST = "specialist", _("Specialist health service")


class Need(models.Model):
    """A need or topic a service helps with; the list is reference data (data/needs.csv)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_nb = models.CharField(_("name (bokmål)"), max_length=100)
    name_nn = models.CharField(_("name (nynorsk)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        language = (get_language() or "nb")[:2]
        return getattr(self, f"name_{language}", "") or self.name_nb


class Service(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name_nb = models.CharField(_("name (bokmål)"), max_length=200)
    name_nn = models.CharField(_("name (nynorsk)"), max_length=200, blank=True)
    description_nb = models.TextField(_("description (bokmål)"), blank=True)
    description_nn = models.TextField(_("description (nynorsk)"), blank=True)
    how_to_nb = models.TextField(_("how to get in touch (bokmål)"), blank=True)
    how_to_nn = models.TextField(_("how to get in touch (nynorsk)"), blank=True)
    unit = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("provided by"),
    )
    coverage = models.CharField(
        _("coverage"), max_length=10, choices=Coverage.choices, default=Coverage.MUNICIPAL
    )
    municipalities = models.ManyToManyField(
        Municipality,
        blank=True,
        related_name="services",
        verbose_name=_("municipalities covered"),
        help_text=_("Not used for national services, which cover the whole country."),
    )
    level = models.CharField(_("pyramid level"), max_length=12, choices=Level.choices)
    age_min = models.PositiveSmallIntegerField(_("youngest age"), default=0)
    age_max = models.PositiveSmallIntegerField(_("oldest age"), default=120)
    needs = models.ManyToManyField(
        Need, blank=True, related_name="services", verbose_name=_("needs served")
    )
    offers_drop_in = models.BooleanField(_("drop-in"), default=False)
    offers_phone = models.BooleanField(_("phone"), default=False)
    offers_sms = models.BooleanField(_("SMS"), default=False)
    offers_chat = models.BooleanField(_("chat"), default=False)
    offers_web_form = models.BooleanField(_("web form"), default=False)
    referral_required = models.BooleanField(_("referral required"), default=False)
    referrers = models.JSONField(
        _("who may refer"), default=list, blank=True, help_text=_("Codes from Referrer.")
    )
    always_open = models.BooleanField(_("open around the clock"), default=False)
    open_on_holidays = models.BooleanField(
        _("open on public holidays"),
        default=False,
        help_text=_("If not, the service is closed on Norwegian public holidays."),
    )
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=4, blank=True)
    city = models.CharField(_("postal town"), max_length=100, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    sms_number = models.CharField(_("SMS number"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    chat_url = models.URLField(_("chat address"), blank=True)
    last_verified = models.DateField(_("last verified"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Fictional entry shipped with the demo.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_nb"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        permissions = [("edit_any_service", _("Can edit services of any unit"))]
        indexes = [
            models.Index(fields=["is_active", "level"], name="service_active_level"),
            models.Index(fields=["coverage"], name="service_coverage"),
            models.Index(fields=["age_min", "age_max"], name="service_ages"),
            models.Index(fields=["last_verified"], name="service_last_verified"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(age_min__lte=F("age_max")), name="service_age_range_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def _localized(self, field: str) -> str:
        language = (get_language() or "nb")[:2]
        if language == "nn":
            return getattr(self, f"{field}_nn") or getattr(self, f"{field}_nb")
        return getattr(self, f"{field}_nb") or getattr(self, f"{field}_nn")

    @property
    def name(self) -> str:
        return self._localized("name")

    @property
    def description(self) -> str:
        return self._localized("description")

    @property
    def how_to(self) -> str:
        return self._localized("how_to")

    @property
    def colour(self) -> str:
        return LEVEL_COLOURS[self.level]

    def channels(self) -> list[str]:
        return [c for c in Channel.values if getattr(self, f"offers_{c}")]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """One weekly opening interval, local time, within one day."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        indexes = [models.Index(fields=["weekday", "opens", "closes"], name="hours_lookup")]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__lt=F("closes")), name="hours_opens_before_closes"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class OpeningException(models.Model):
    """A date that departs from the weekly pattern: closed, or open at other times."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=False)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date", "opens"]
        indexes = [models.Index(fields=["date"], name="exception_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed=True, opens__isnull=True, closes__isnull=True)
                | Q(closed=False, opens__isnull=False, closes__isnull=False, opens__lt=F("closes")),
                name="exception_closed_or_interval",
            )
        ]

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date}: closed"
        return f"{self.date}: {self.opens:%H:%M}–{self.closes:%H:%M}"


class ServiceVersion(models.Model):
    """A snapshot of a service after each change: who, when, and what changed."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("when"), auto_now_add=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    snapshot = models.JSONField(_("snapshot"))
    changes = models.JSONField(
        _("changes"), default=dict, help_text=_("Field name → [before, after].")
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.service_id} v{self.number}"

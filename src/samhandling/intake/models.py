"""The door in: programs with their criteria, patients, referrals, contacts and decisions.

A referral is received by one program (an intake team's service, e.g. BUP Vestfold) and
carries its statutory assessment deadline from the day it is received. Anonymous
self-referrals have no patient and store nothing that identifies the sender: the follow-up
link's token is stored only as a hash.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from samhandling.core.models import Municipality, OrganisationUnit
from samhandling.directory.models import Referrer


class Program(models.Model):
    """A service that takes referrals, with its intake team and its deadline rules."""

    code = models.SlugField(_("code"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.PROTECT,
        related_name="programs",
        verbose_name=_("intake team's unit"),
    )
    municipalities = models.ManyToManyField(
        Municipality, blank=True, related_name="programs", verbose_name=_("catchment")
    )
    age_min = models.PositiveSmallIntegerField(_("youngest age"), default=0)
    age_max = models.PositiveSmallIntegerField(_("oldest age"), default=120)
    assessment_working_days = models.PositiveSmallIntegerField(
        _("assessment deadline (working days)"), default=10
    )
    warning_working_days = models.PositiveSmallIntegerField(
        _("warn this many working days before"), default=3
    )
    advice_working_days = models.PositiveSmallIntegerField(
        _("answer advice requests within (working days)"), default=3
    )
    closed_days = models.JSONField(
        _("extra closed days"),
        default=list,
        blank=True,
        help_text=_("Dates (YYYY-MM-DD) besides weekends and public holidays, e.g. 24 December."),
    )
    accepts_self_referrals = models.BooleanField(_("takes self-referrals"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        constraints = [
            models.CheckConstraint(
                condition=Q(age_min__lte=models.F("age_max")), name="program_age_range_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def closed_dates(self) -> list[dt.date]:
        return [dt.date.fromisoformat(day) for day in self.closed_days]


class Criteria(models.Model):
    """One version of a program's inclusion and exclusion criteria; the newest applies."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="criteria")
    number = models.PositiveIntegerField(_("version"))
    inclusion = models.JSONField(
        _("inclusion criteria"), default=list, help_text=_('[{"key", "text": {"nb", "nn"}}]')
    )
    exclusion = models.JSONField(_("exclusion criteria"), default=list)
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["program", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="criteria_unique_number")
        ]
        verbose_name = _("criteria version")
        verbose_name_plural = _("criteria versions")

    def __str__(self) -> str:
        return f"{self.program_id} v{self.number}"


class Patient(models.Model):
    """An identified person. The identity number is personal data: never in URLs or logs."""

    key = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("Pseudonymous key, used in the access log and in links."),
    )
    identity_number = models.CharField(_("fødselsnummer or D-nummer"), max_length=11, unique=True)
    given_name = models.CharField(_("given name"), max_length=200)
    family_name = models.CharField(_("family name"), max_length=200)
    birth_date = models.DateField(_("birth date"))
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality of residence"),
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")

    def __str__(self) -> str:
        return str(self.key)  # never the name or number: __str__ ends up in logs


class Kind(models.TextChoices):
    SELF = "self", _("Self-referral")
    PROFESSIONAL = "professional", _("Referral from a professional")
    ADVICE = "advice", _("Advice before referral")


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_ASSESSMENT = "in_assessment", _("Being assessed")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Not accepted")
    REDIRECTED = "redirected", _("Sent on to another unit")
    LIMITED = "limited", _("Limited help given, case ended")
    ANSWERED = "answered", _("Advice given")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = [ReferralStatus.RECEIVED, ReferralStatus.IN_ASSESSMENT]


class Referral(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("program")
    )
    pathway = models.ForeignKey(
        "pathways.Pathway",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("care pathway followed"),
    )
    pathway_version = models.PositiveIntegerField(null=True, blank=True)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        help_text=_("Empty for anonymous self-referrals and anonymous advice requests."),
    )
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    age_years = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_sent",
        verbose_name=_("referrer"),
    )
    # The same codes as a service's "who may refer" in the directory.
    referrer_kind = models.CharField(_("referred by"), max_length=16, choices=Referrer.choices)
    reason = models.TextField(_("reason for the referral"))
    checklist_answers = models.JSONField(
        _("checklist answers"), default=dict, blank=True, help_text=_("Section → key → answer.")
    )
    # Anonymous follow-up: a short reference code the person writes down, and a secret link;
    # only a hash of the link's token is stored.
    reference_code = models.CharField(max_length=12, unique=True, null=True, blank=True)
    follow_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    received_at = models.DateTimeField(_("received"))
    deadline = models.DateField(_("assessment deadline"))
    status = models.CharField(
        _("status"), max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.RECEIVED
    )
    is_known_patient = models.BooleanField(
        _("known patient (fast track)"), default=False, help_text=_("An open or recent episode.")
    )
    converted_from = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="converted_to",
        help_text=_("The advice request this referral was made from."),
    )
    # Bumped on every change: a decision based on an older copy is refused (conflict).
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline", "received_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["program", "status", "deadline"], name="referral_queue"),
            models.Index(fields=["patient", "status"], name="referral_patient_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_anonymous=False) | Q(patient__isnull=True),
                name="referral_anonymous_has_no_patient",
            )
        ]

    def __str__(self) -> str:
        return str(self.code)


class Attachment(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="referrals/%Y/%m/")
    content_type = models.CharField(
        _("type"), max_length=40, help_text=_("Found from the content, not the name.")
    )
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(max_length=64)
    label = models.CharField(_("what it is"), max_length=200, blank=True)
    checklist_key = models.CharField(max_length=80, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.content_type}, {self.size} B"


class ContactMode(models.TextChoices):
    PHONE = "phone", _("Phone")
    VIDEO = "video", _("Video")
    MEETING = "meeting", _("Meeting")


class ContactWith(models.TextChoices):
    PATIENT = "patient", _("The patient")
    RELATIVE = "relative", _("Relative")
    REFERRER = "referrer", _("The referrer")


class ClarificationContact(models.Model):
    """A talk with the patient, a relative or the referrer while the referral is assessed."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="contacts")
    mode = models.CharField(_("how"), max_length=10, choices=ContactMode.choices)
    with_whom = models.CharField(_("with whom"), max_length=10, choices=ContactWith.choices)
    at = models.DateTimeField(_("when"))
    outcome = models.TextField(_("outcome"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )

    class Meta:
        ordering = ["at"]
        verbose_name = _("clarification contact")
        verbose_name_plural = _("clarification contacts")

    def __str__(self) -> str:
        return f"{self.referral_id} {self.mode} {self.at:%Y-%m-%d}"


class DecisionKind(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    REJECT = "reject", _("Reject")
    REDIRECT = "redirect", _("Send on to another unit")
    LIMITED = "limited", _("Limited intervention, then end")
    ANSWER = "answer", _("Answer the advice request")


class ThematicTeam(models.TextChoices):
    EATING = "eating_disorders", _("Eating disorders")
    ADHD = "adhd", _("ADHD")
    PSYCHOSIS = "psychosis", _("Psychosis")
    MOOD = "mood", _("Mood disorders")
    SUBSTANCE = "substance_use", _("Substance use")
    GENERAL = "general", _("General")
    PROGRAM = "program_clinic", _("Program clinic")


class RejectCategory(models.TextChoices):
    NOT_SPECIALIST = "not_specialist", _("Help belongs in the municipality or with the GP")
    INCOMPLETE = "incomplete", _("Not enough information to assess")
    OUTSIDE_CRITERIA = "outside_criteria", _("Outside the program's criteria")
    OUTSIDE_AREA = "outside_area", _("Outside the catchment area")
    OTHER = "other", _("Other reason")


class Decision(models.Model):
    """The intake team's decision on one referral: who, when, why. Never changed once made."""

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="decision")
    kind = models.CharField(_("decision"), max_length=10, choices=DecisionKind.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"))
    reason = models.TextField(_("why"))
    right_to_care = models.BooleanField(_("right to necessary health care"), null=True)
    latest_start = models.DateField(_("latest start of treatment"), null=True, blank=True)
    thematic_team = models.CharField(
        _("team"), max_length=20, choices=ThematicTeam.choices, blank=True
    )
    reject_category = models.CharField(
        _("reason category"), max_length=20, choices=RejectCategory.choices, blank=True
    )
    suggested_services = models.ManyToManyField(
        "directory.Service", blank=True, related_name="+", verbose_name=_("suggested services")
    )
    redirected_to = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent on to"),
    )
    criteria = models.ForeignKey(
        Criteria,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        help_text=_("The criteria version shown when deciding."),
    )
    against_criteria = models.BooleanField(_("against the program's criteria"), default=False)
    justification = models.TextField(_("justification for departing from the criteria"), blank=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(against_criteria=False) | ~Q(justification=""),
                name="decision_justified_when_against_criteria",
            ),
            models.CheckConstraint(
                condition=~Q(kind="accept") | Q(right_to_care__isnull=False),
                name="decision_accept_states_right_to_care",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.kind}"

"""Care pathways (samhandlingsforløp): versions, local adaptations, proposals, feedback rounds.

A pathway's text lives in `PathwayVersion.content` as a structured JSON document (the shape
of the files in data/, checked by services.content before it is stored). A base version is
the national text; an adaptation version holds only what one helsefellesskap or municipality
changes or adds. Every version is kept; readers see the published one of each scope.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from samhandling.core.models import Municipality, OrganisationUnit


class Pathway(models.Model):
    """One care pathway, the same across all its versions and local adaptations."""

    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    is_demo = models.BooleanField(
        _("demo content"), default=False, help_text=_("Skeleton text shipped with the platform.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("care pathway")
        verbose_name_plural = _("care pathways")

    def __str__(self) -> str:
        return self.slug


class ScopeKind(models.TextChoices):
    BASE = "base", _("National base version")
    PARTNERSHIP = "partnership", _("Adaptation for a helsefellesskap")
    MUNICIPALITY = "municipality", _("Adaptation for a municipality")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Replaced by a newer version")


def scope_key_of(
    scope: str, partnership: OrganisationUnit | None, municipality: Municipality | None
) -> str:
    if scope == ScopeKind.PARTNERSHIP and partnership is not None:
        return f"partnership:{partnership.code}"
    if scope == ScopeKind.MUNICIPALITY and municipality is not None:
        return f"municipality:{municipality.pk}"
    return "base"


class PathwayVersion(models.Model):
    """One version of a pathway's base text or of one local adaptation of it."""

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="versions")
    scope = models.CharField(_("scope"), max_length=12, choices=ScopeKind.choices)
    partnership = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pathway_versions",
        verbose_name=_("helsefellesskap"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pathway_versions",
        verbose_name=_("municipality"),
    )
    # "base", "partnership:<unit code>" or "municipality:<number>": one key per scope, so
    # uniqueness holds on every database (nullable columns in unique keys do not).
    scope_key = models.CharField(max_length=100, editable=False)
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    content = models.JSONField(_("content"))
    change_note = models.TextField(_("what changed"), blank=True)
    based_on = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("sent to review"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    next_revision = models.DateField(_("next revision"), null=True, blank=True)
    # Bumped on every save of a draft: an edit based on an older copy is refused, not lost.
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["pathway", "scope", "-number"]
        verbose_name = _("pathway version")
        verbose_name_plural = _("pathway versions")
        permissions = [("publish_any_pathway", _("Can publish pathways of any scope"))]
        constraints = [
            models.UniqueConstraint(
                fields=["pathway", "scope_key", "number"], name="pathway_version_unique_number"
            ),
            models.UniqueConstraint(
                fields=["pathway", "scope_key"],
                condition=Q(status="published"),
                name="pathway_one_published_per_scope",
            ),
            models.CheckConstraint(
                condition=Q(scope="base", partnership__isnull=True, municipality__isnull=True)
                | Q(scope="partnership", partnership__isnull=False, municipality__isnull=True)
                | Q(scope="municipality", partnership__isnull=True, municipality__isnull=False),
                name="pathway_version_scope_matches",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_revision"], name="pathway_revision_due")]

    def __str__(self) -> str:
        return f"{self.pathway_id} {self.scope_key} v{self.number} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        self.scope_key = scope_key_of(self.scope, self.partnership, self.municipality)
        super().save(*args, **kwargs)

    @property
    def scope_label(self) -> str:
        if self.scope == ScopeKind.MUNICIPALITY and self.municipality_id:
            return str(self.municipality.name)
        if self.scope == ScopeKind.PARTNERSHIP and self.partnership_id:
            return self.partnership.name
        return str(_("National base version"))


class ResponsibleEditor(models.Model):
    """The editor who answers for the pathways of one helsefellesskap, or for the base text.

    Only a responsible editor publishes; other editors draft and send drafts to review.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pathway_responsibilities"
    )
    # Unique per user and scope without a nullable column in the key (see PathwayVersion).
    scope_key = models.CharField(max_length=100, editable=False)
    partnership = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pathway_editors",
        help_text=_("Empty: responsible for the national base versions."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope_key"], name="responsible_editor_unique")
        ]
        verbose_name = _("responsible pathway editor")
        verbose_name_plural = _("responsible pathway editors")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.scope_key}"

    def save(self, *args, **kwargs) -> None:
        scope = ScopeKind.PARTNERSHIP if self.partnership_id else ScopeKind.BASE
        self.scope_key = scope_key_of(scope, self.partnership, None)
        super().save(*args, **kwargs)


def _proposal_token() -> str:
    return secrets.token_urlsafe(24)


class ProposalStatus(models.TextChoices):
    NEW = "new", _("Waiting for the editors")
    ACCEPTED = "accepted", _("Accepted into a draft")
    REJECTED = "rejected", _("Not taken up")


class ChangeProposal(models.Model):
    """A proposed change to one step, from staff or from any reader (no login).

    Public proposals keep no name, address or network data of the sender: only the text and
    a secret token, which the sender holds to see the outcome.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token = models.CharField(max_length=64, unique=True, default=_proposal_token, editable=False)
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="proposals")
    version = models.ForeignKey(
        PathwayVersion,
        on_delete=models.SET_NULL,
        null=True,
        related_name="proposals",
        help_text=_("The published version the proposer read."),
    )
    step_key = models.CharField(_("step"), max_length=80, blank=True)
    text = models.TextField(_("proposal"))
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.NEW
    )
    reason = models.TextField(_("reason"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    accepted_into = models.ForeignKey(
        PathwayVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accepted_proposals",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("change proposal")
        verbose_name_plural = _("change proposals")

    def __str__(self) -> str:
        return f"{self.pathway_id}/{self.step_key or '-'} ({self.status})"


class FeedbackRound(models.Model):
    """An editor asks a set of municipalities whether they can use a set of pathways."""

    title = models.CharField(_("title"), max_length=200)
    partnership = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_rounds",
        verbose_name=_("helsefellesskap"),
    )
    pathways = models.ManyToManyField(Pathway, related_name="feedback_rounds")
    municipalities = models.ManyToManyField(Municipality, related_name="feedback_rounds")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closes_on = models.DateField(_("answers wanted by"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("feedback round")
        verbose_name_plural = _("feedback rounds")

    def __str__(self) -> str:
        return self.title


class Verdict(models.TextChoices):
    GREEN = "green", _("Green: we can use it as it is")
    YELLOW = "yellow", _("Yellow: we must adapt it")
    RED = "red", _("Red: we cannot use it")


class FeedbackAnswer(models.Model):
    round = models.ForeignKey(FeedbackRound, on_delete=models.CASCADE, related_name="answers")
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(_("answer"), max_length=6, choices=Verdict.choices)
    comment = models.TextField(_("comment"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "municipality", "pathway"], name="feedback_one_answer"
            ),
            models.CheckConstraint(
                condition=Q(verdict="green") | ~Q(comment=""),
                name="feedback_comment_unless_green",
            ),
        ]
        verbose_name = _("feedback answer")
        verbose_name_plural = _("feedback answers")

    def __str__(self) -> str:
        return f"{self.round_id} {self.municipality_id} {self.pathway_id}: {self.verdict}"

"""The intake team's queue, its reads of referrals, and its decisions.

Every read of an identified referral writes an access-log row. A decision is made once, by
a member of the program's intake team, with who/when/why; two members deciding the same
referral at once: the first wins, the second gets a Conflict and nothing of theirs is stored.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from samhandling.core.models import AccessPurpose, OrganisationUnit, Role
from samhandling.core.services import access_log_record, access_log_records, units_with_descendants
from samhandling.intake.models import (
    OPEN_STATUSES,
    Criteria,
    Decision,
    DecisionKind,
    Program,
    Referral,
    ReferralStatus,
    RejectCategory,
    ThematicTeam,
)
from samhandling.intake.services.deadlines import (
    DeadlineState,
    deadline_state,
    working_days_after,
)

STATUS_OF_DECISION = {
    DecisionKind.ACCEPT: ReferralStatus.ACCEPTED,
    DecisionKind.REJECT: ReferralStatus.REJECTED,
    DecisionKind.REDIRECT: ReferralStatus.REDIRECTED,
    DecisionKind.LIMITED: ReferralStatus.LIMITED,
    DecisionKind.ANSWER: ReferralStatus.ANSWERED,
}


class NotAllowed(Exception):
    """The user is not on this program's intake team (403)."""


class Conflict(Exception):
    """Someone else changed or decided the referral first (409); the message is translated."""


class DecisionError(ValueError):
    """The decision is incomplete; `problems` maps a field to a translated message."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))


def is_intake_member(*, user: Any, program: Program) -> bool:
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if not user.has_role(Role.INTAKE):
        return False
    return program.unit_id in units_with_descendants(
        OrganisationUnit.objects.filter(pk__in=user.units.values("pk"))
    )


def _require_member(user: Any, program: Program) -> None:
    if not is_intake_member(user=user, program=program):
        raise NotAllowed(_("Only the program's intake team may do this."))


def _subject_key(referral: Referral) -> str:
    return str(referral.patient.key) if referral.patient_id else ""


# --- the queue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    referral: Referral
    deadline: DeadlineState


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    total: int
    counts: dict[str, int]
    warnings: int
    breaches: int


def _open_referrals(program: Program) -> QuerySet[Referral]:
    return program.referrals.filter(status__in=OPEN_STATUSES)


def intake_queue(
    *,
    user: Any,
    program: Program,
    today: dt.date | None = None,
    status: str | None = None,
    known_only: bool = False,
    breached_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Queue:
    """Open referrals of a program by deadline (fast-track first on the same day), with counts.

    The rows shown are access-logged (purpose: assessment of the referral).
    """
    _require_member(user, program)
    today = today or timezone.localdate()
    closed = program.closed_dates
    rows = _open_referrals(program).select_related("patient", "municipality", "pathway")
    if status:
        rows = rows.filter(status=status)
    if known_only:
        rows = rows.filter(is_known_patient=True)
    if breached_only:
        rows = rows.filter(deadline__lt=today)
    rows = rows.order_by("deadline", "-is_known_patient", "received_at", "pk")
    total = rows.count()
    page = list(rows[offset : offset + limit])
    access_log_records(
        actor=user,
        objs=[r for r in page if r.patient_id],
        purpose=AccessPurpose.ASSESSMENT,
        subject_key_of=_subject_key,
    )
    counts = dict(_open_referrals(program).values_list("status").annotate(n=Count("pk")).order_by())
    open_rows = _open_referrals(program)
    breaches = open_rows.filter(deadline__lt=today).count()
    # Warned: due today or within the warning's working days (the same rule as the rows).
    warn_until = working_days_after(today, program.warning_working_days, closed=closed)
    warnings = open_rows.filter(deadline__gte=today, deadline__lte=warn_until).count()
    return Queue(
        rows=[
            QueueRow(
                referral=r,
                deadline=deadline_state(
                    deadline=r.deadline,
                    today=today,
                    warning_days=program.warning_working_days,
                    closed=closed,
                ),
            )
            for r in page
        ],
        total=total,
        counts=counts,
        warnings=warnings,
        breaches=breaches,
    )


def referral_read(*, user: Any, referral: Referral) -> Referral:
    """One referral for the intake team, access-logged."""
    _require_member(user, referral.program)
    if referral.patient_id:
        access_log_record(
            actor=user,
            obj=referral,
            purpose=AccessPurpose.ASSESSMENT,
            subject_key=_subject_key(referral),
        )
    return referral


# --- deciding -----------------------------------------------------------------------------


@dataclass
class DecisionInput:
    kind: str
    reason: str
    right_to_care: bool | None = None
    latest_start: dt.date | None = None
    thematic_team: str = ""
    reject_category: str = ""
    suggested_service_ids: list[int] | None = None
    redirected_to: OrganisationUnit | None = None
    against_criteria: bool = False
    justification: str = ""


def _decision_problems(d: DecisionInput, referral: Referral, today: dt.date) -> dict[str, str]:
    problems: dict[str, str] = {}
    if d.kind not in DecisionKind.values:
        return {"kind": _("Choose a decision.")}
    if not d.reason.strip():
        problems["reason"] = _("Write why.")
    if (d.kind == DecisionKind.ANSWER) != (referral.kind == "advice"):
        problems["kind"] = _("Advice requests are answered; referrals get another decision.")
    if d.kind == DecisionKind.ACCEPT:
        if d.right_to_care is None:
            problems["right_to_care"] = _("Say whether the patient has the right to health care.")
        if d.right_to_care and d.latest_start is None:
            problems["latest_start"] = _("Give the latest date treatment must start.")
        if d.latest_start is not None and d.latest_start < today:
            problems["latest_start"] = _("The latest start cannot be in the past.")
        if d.thematic_team not in ThematicTeam.values:
            problems["thematic_team"] = _("Choose the team the patient goes to.")
    if d.kind == DecisionKind.REJECT and d.reject_category not in RejectCategory.values:
        problems["reject_category"] = _("Choose the kind of reason.")
    if d.kind == DecisionKind.REDIRECT and d.redirected_to is None:
        problems["redirected_to"] = _("Choose where the referral goes on to.")
    if d.against_criteria and not d.justification.strip():
        problems["justification"] = _(
            "A decision against the program's criteria needs a written justification."
        )
    return problems


@transaction.atomic
def decision_make(
    *,
    user: Any,
    referral: Referral,
    revision: int,
    decision: DecisionInput,
    at: dt.datetime | None = None,
) -> Decision:
    """Decide a referral seen at `revision`; Conflict if it changed or was decided since."""
    _require_member(user, referral.program)
    at = at or timezone.now()
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if Decision.objects.filter(referral=locked).exists():
        raise Conflict(_("Someone else decided this referral while you were working on it."))
    if locked.revision != revision:
        raise Conflict(_("The referral changed after you opened it. Open it again to see how."))
    problems = _decision_problems(decision, locked, timezone.localtime(at).date())
    if problems:
        raise DecisionError(problems)
    made = Decision.objects.create(
        referral=locked,
        kind=decision.kind,
        decided_by=user,
        decided_at=at,
        reason=decision.reason.strip(),
        right_to_care=decision.right_to_care,
        latest_start=decision.latest_start,
        thematic_team=decision.thematic_team,
        reject_category=decision.reject_category,
        redirected_to=decision.redirected_to,
        criteria=Criteria.objects.filter(program=locked.program).order_by("-number").first(),
        against_criteria=decision.against_criteria,
        justification=decision.justification.strip(),
    )
    if decision.suggested_service_ids:
        made.suggested_services.set(decision.suggested_service_ids)
    locked.status = STATUS_OF_DECISION[decision.kind]
    locked.revision += 1
    locked.save(update_fields=["status", "revision", "updated_at"])
    return made

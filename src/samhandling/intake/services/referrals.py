"""Receiving referrals: checklist completeness, identity, deadline, duplicates, anonymity.

Everything is checked before anything is stored; a refused referral changes nothing. An
anonymous self-referral stores no identity, no address and no network data: the person gets
a reference code and a secret link, and only a hash of the link's token is kept.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality
from samhandling.directory.models import Referrer
from samhandling.intake.models import (
    OPEN_STATUSES,
    Attachment,
    Kind,
    Patient,
    Program,
    Referral,
)
from samhandling.intake.services.attachments import MAX_FILES, CheckedFile
from samhandling.intake.services.deadlines import working_days_after
from samhandling.intake.services.identity import IdentityNumberError, identity_number_parse
from samhandling.pathways.models import Pathway
from samhandling.pathways.services.resolve import Text, pathway_resolve, pick

REASON_MAX = 10_000
ANSWER_MAX = 4_000
# Unambiguous letters and digits for a code read aloud or written down (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
RECENT_EPISODE_DAYS = 365


class ReferralError(ValueError):
    """The referral is refused; `problems` maps a field to a translated message."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))


# --- the checklist ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    section: str
    key: str
    text: Text


def referral_checklist(
    *, pathway: Pathway, municipality: Municipality | None = None
) -> list[ChecklistItem]:
    """The published checklist of a pathway as read in the municipality, item by item."""
    resolved = pathway_resolve(pathway=pathway, municipality=municipality)
    raw = resolved.document.get("checklist", {})
    return [
        ChecklistItem(section, item["key"], pick(item["text"]))
        for section in ("required_information", "measures_tried", "attachments")
        for item in raw.get(section, [])
    ]


def urgent_signs(*, pathway: Pathway, municipality: Municipality | None = None) -> list[Any]:
    resolved = pathway_resolve(pathway=pathway, municipality=municipality)
    return resolved.checklist["urgent_signs"]


def checklist_missing(
    checklist: list[ChecklistItem], answers: dict[str, dict[str, Any]], attached_keys: set[str]
) -> list[ChecklistItem]:
    """The items not yet answered: a text for information and measures, a file for attachments.

    A measure may be answered "not tried" with the reason why; an empty answer counts as
    missing.
    """
    missing = []
    for item in checklist:
        if item.section == "attachments":
            if item.key not in attached_keys:
                missing.append(item)
            continue
        answer = str((answers.get(item.section) or {}).get(item.key) or "").strip()
        if not answer:
            missing.append(item)
    return missing


# --- identity and the patient -----------------------------------------------------------


@dataclass
class PersonData:
    identity_number: str
    given_name: str
    family_name: str
    municipality: Municipality | None = None
    phone: str = ""
    email: str = ""


def _patient_for(person: PersonData, today: dt.date) -> tuple[Patient, int]:
    try:
        parsed = identity_number_parse(person.identity_number, today=today)
    except IdentityNumberError as error:
        raise ReferralError({"identity_number": str(error)}) from error
    names = {"given_name": person.given_name.strip(), "family_name": person.family_name.strip()}
    problems = {k: _("Enter the name.") for k, v in names.items() if not v}
    if problems:
        raise ReferralError(problems)
    patient, _created = Patient.objects.get_or_create(
        identity_number=parsed.number,
        defaults={
            **names,
            "birth_date": parsed.birth_date,
            "municipality": person.municipality,
            "phone": person.phone,
            "email": person.email,
        },
    )
    return patient, parsed.age_on(today)


def open_referrals_of(patient: Patient) -> list[Referral]:
    """The patient's referrals that are still being assessed, anywhere."""
    return list(patient.referrals.filter(status__in=OPEN_STATUSES).select_related("program"))


def _is_known_patient(patient: Patient, program: Program, today: dt.date) -> bool:
    since = today - dt.timedelta(days=RECENT_EPISODE_DAYS)
    return patient.referrals.filter(
        program=program, status="accepted", received_at__date__gte=since
    ).exists()


# --- receiving --------------------------------------------------------------------------


@dataclass
class Submission:
    program: Program
    kind: str
    referrer_kind: str
    reason: str
    person: PersonData | None = None  # None: anonymous
    referrer: Any = None
    pathway: Pathway | None = None
    municipality: Municipality | None = None
    age_years: int | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[tuple[str, CheckedFile]] = field(default_factory=list)  # (checklist key, file)


@dataclass(frozen=True)
class Received:
    referral: Referral
    open_elsewhere: list[Referral]
    follow_token: str = ""  # only for anonymous referrals; shown once, never stored


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_reference_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Referral.objects.filter(reference_code=code).exists():
            return code


def _check_submission(s: Submission) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not s.reason.strip():
        problems["reason"] = _("Write what the referral is about.")
    elif len(s.reason) > REASON_MAX:
        problems["reason"] = _("The text is too long: use at most %(max)d characters.") % {
            "max": REASON_MAX
        }
    if s.kind not in Kind.values:
        problems["kind"] = _("Unknown kind of referral.")
    if s.referrer_kind not in Referrer.values:
        problems["referrer_kind"] = _("Choose who refers.")
    if s.kind == Kind.PROFESSIONAL and s.person is None:
        problems["identity_number"] = _("A referral from a professional names the patient.")
    if s.kind == Kind.SELF and not s.program.accepts_self_referrals:
        problems["program"] = _("This service does not take self-referrals.")
    if not s.program.is_active:
        problems["program"] = _("This service does not take referrals now.")
    if len(s.files) > MAX_FILES:
        problems["files"] = _("Attach at most %(max)d files.") % {"max": MAX_FILES}
    for section in s.answers.values():
        if any(len(str(v)) > ANSWER_MAX for v in section.values()):
            problems["answers"] = _("An answer is too long: use at most %(max)d characters.") % {
                "max": ANSWER_MAX
            }
    return problems


@transaction.atomic
def referral_receive(s: Submission, *, at: dt.datetime | None = None) -> Received:
    """Store a referral after every check, with its deadline; or raise ReferralError.

    A professional referral along a pathway must answer every checklist item.
    """
    at = at or timezone.now()
    today = timezone.localtime(at).date()
    problems = _check_submission(s)
    if s.kind == Kind.PROFESSIONAL and s.pathway is not None:
        checklist = referral_checklist(pathway=s.pathway, municipality=s.municipality)
        missing = checklist_missing(checklist, s.answers, {key for key, _f in s.files})
        if missing:
            problems["checklist"] = _("Missing from the checklist: %(items)s") % {
                "items": "; ".join(item.text.text for item in missing)
            }
    if problems:
        raise ReferralError(problems)
    patient, age = (None, s.age_years)
    if s.person is not None:
        patient, age = _patient_for(s.person, today)
    closed = s.program.closed_dates
    days = (
        s.program.advice_working_days
        if s.kind == Kind.ADVICE
        else s.program.assessment_working_days
    )
    referral = Referral(
        kind=s.kind,
        program=s.program,
        pathway=s.pathway,
        pathway_version=None,
        patient=patient,
        is_anonymous=patient is None,
        age_years=age,
        municipality=s.municipality or (patient.municipality if patient else None),
        referrer=s.referrer,
        referrer_kind=s.referrer_kind,
        reason=s.reason.strip(),
        checklist_answers=s.answers,
        received_at=at,
        deadline=working_days_after(today, days, closed=closed),
        is_known_patient=bool(patient and _is_known_patient(patient, s.program, today)),
    )
    token = ""
    if patient is None:
        token = secrets.token_urlsafe(32)
        referral.reference_code = _new_reference_code()
        referral.follow_token_hash = _token_hash(token)
    open_elsewhere = open_referrals_of(patient) if patient else []
    referral.save()
    for key, checked in s.files:
        Attachment.objects.create(
            referral=referral,
            file=ContentFile(checked.content, name=f"{referral.code}.{checked.extension}"),
            content_type=checked.content_type,
            size=len(checked.content),
            sha256=checked.sha256,
            checklist_key=key,
        )
    return Received(referral=referral, open_elsewhere=open_elsewhere, follow_token=token)


def referral_by_follow_link(*, reference_code: str, token: str) -> Referral | None:
    """The anonymous referral for a code and its secret token; None if they do not match."""
    if not reference_code or not token:
        return None
    return Referral.objects.filter(
        reference_code=reference_code.strip().upper(), follow_token_hash=_token_hash(token)
    ).first()

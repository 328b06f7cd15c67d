"""Receiving referrals: checklist, identity, deadline, open referrals, anonymous follow-up."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from samhandling.core.models import Municipality
from samhandling.intake.models import Attachment, Kind, Patient, Referral
from samhandling.intake.services.attachments import attachment_check
from samhandling.intake.services.referrals import (
    PersonData,
    ReferralError,
    Submission,
    checklist_missing,
    referral_by_follow_link,
    referral_checklist,
    referral_receive,
)
from tests.intake.test_attachments import pdf_bytes
from tests.intake.test_identity import valid_number

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
WEDNESDAY_BEFORE_EASTER = dt.datetime(2026, 4, 1, 10, 0, tzinfo=OSLO)


def horten() -> Municipality:
    return Municipality.objects.get(pk="3901")


def full_answers(pathway) -> tuple[dict, list]:
    answers: dict = {}
    files = []
    for item in referral_checklist(pathway=pathway, municipality=horten()):
        if item.section == "attachments":
            files.append((item.key, attachment_check(pdf_bytes())))
        else:
            answers.setdefault(item.section, {})[item.key] = "Beskrevet i henvisningen."
    return answers, files


def professional(program, gp, pathway, **changes) -> Submission:
    answers, files = full_answers(pathway)
    values = {
        "program": program,
        "kind": Kind.PROFESSIONAL,
        "referrer_kind": "gp",
        "referrer": gp,
        "reason": "Angst som hindrer skolegang i tre måneder.",
        "person": PersonData(valid_number(15, 6, 2011), "Ola", "Nordmann", horten()),
        "pathway": pathway,
        "municipality": horten(),
        "answers": answers,
        "files": files,
    }
    values.update(changes)
    return Submission(**values)


def test_a_complete_referral_is_received_with_its_deadline_over_easter(program, gp, imported):
    received = referral_receive(
        professional(program, gp, imported["worry-anxiety"]), at=WEDNESDAY_BEFORE_EASTER
    )
    referral = received.referral
    assert referral.deadline == dt.date(2026, 4, 20)
    assert referral.age_years == 14
    assert referral.patient.birth_date == dt.date(2011, 6, 15)
    assert not referral.is_anonymous
    assert referral.attachments.count() >= 1
    assert all(a.content_type == "application/pdf" for a in referral.attachments.all())
    assert received.open_elsewhere == []
    assert received.follow_token == ""


def test_missing_checklist_items_are_named_and_nothing_is_stored(program, gp, imported):
    pathway = imported["worry-anxiety"]
    submission = professional(program, gp, pathway)
    section = next(iter(submission.answers))
    dropped_key = next(iter(submission.answers[section]))
    submission.answers[section][dropped_key] = "   "
    submission.files = []
    with pytest.raises(ReferralError) as caught:
        referral_receive(submission, at=WEDNESDAY_BEFORE_EASTER)
    checklist = {i.key: i for i in referral_checklist(pathway=pathway, municipality=horten())}
    assert checklist[dropped_key].text.text in caught.value.problems["checklist"]
    assert not Referral.objects.exists()
    assert not Patient.objects.exists()
    assert not Attachment.objects.exists()


def test_checklist_missing_lists_unanswered_items_and_absent_attachments(imported):
    checklist = referral_checklist(pathway=imported["worry-anxiety"], municipality=horten())
    missing = checklist_missing(checklist, {}, set())
    assert missing == checklist
    answers, files = full_answers(imported["worry-anxiety"])
    assert checklist_missing(checklist, answers, {k for k, _ in files}) == []


def test_an_invalid_identity_number_is_refused_and_nothing_is_stored(program, gp, imported):
    number = valid_number(15, 6, 2011)
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    submission = professional(
        program, gp, imported["worry-anxiety"], person=PersonData(wrong, "Ola", "Nordmann")
    )
    with pytest.raises(ReferralError) as caught:
        referral_receive(submission, at=WEDNESDAY_BEFORE_EASTER)
    assert "check the digits" in caught.value.problems["identity_number"]
    assert wrong not in str(caught.value)
    assert not Referral.objects.exists()
    assert not Attachment.objects.exists()


def test_an_open_referral_for_the_same_patient_is_detected(program, gp, imported):
    first = referral_receive(
        professional(program, gp, imported["worry-anxiety"]), at=WEDNESDAY_BEFORE_EASTER
    )
    second = referral_receive(
        professional(program, gp, imported["sadness-depression"]), at=WEDNESDAY_BEFORE_EASTER
    )
    assert second.open_elsewhere == [first.referral]
    assert second.referral.patient == first.referral.patient
    assert Patient.objects.count() == 1


def test_an_anonymous_self_referral_stores_no_identity_and_is_followed_by_code(program):
    received = referral_receive(
        Submission(
            program=program,
            kind=Kind.SELF,
            referrer_kind="self",
            reason="Jeg er redd hele tiden og klarer ikke gå på skolen.",
            age_years=16,
            municipality=horten(),
        ),
        at=WEDNESDAY_BEFORE_EASTER,
    )
    referral = received.referral
    assert referral.is_anonymous
    assert referral.patient is None
    assert len(referral.reference_code) == 10
    assert received.follow_token
    assert received.follow_token not in referral.follow_token_hash
    found = referral_by_follow_link(
        reference_code=referral.reference_code.lower(), token=received.follow_token
    )
    assert found == referral
    assert referral_by_follow_link(reference_code=referral.reference_code, token="wrong") is None
    assert referral_by_follow_link(reference_code="", token=received.follow_token) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 10_001}, "reason"),
        ({"referrer_kind": "astrologer"}, "referrer_kind"),
        ({"person": None}, "identity_number"),
    ],
)
def test_bad_input_gets_a_message_per_field_and_stores_nothing(
    program, gp, imported, changes, field
):
    with pytest.raises(ReferralError) as caught:
        referral_receive(
            professional(program, gp, imported["worry-anxiety"], **changes),
            at=WEDNESDAY_BEFORE_EASTER,
        )
    assert field in caught.value.problems
    assert not Referral.objects.exists()


def test_a_program_without_self_referral_refuses_one(program):
    program.accepts_self_referrals = False
    program.save()
    with pytest.raises(ReferralError, match="does not take self-referrals"):
        referral_receive(
            Submission(program=program, kind=Kind.SELF, referrer_kind="self", reason="Hjelp"),
            at=WEDNESDAY_BEFORE_EASTER,
        )
    assert not Referral.objects.exists()

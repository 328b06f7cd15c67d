"""The intake queue, access-logged reads, and decisions (one wins when two decide at once)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from samhandling.core.models import AccessLog
from samhandling.intake.models import Decision, Kind, Referral, ReferralStatus
from samhandling.intake.services.decisions import (
    Conflict,
    DecisionError,
    DecisionInput,
    NotAllowed,
    decision_make,
    intake_queue,
    referral_read,
)
from samhandling.intake.services.referrals import Submission, referral_receive
from tests.intake.test_referrals import horten, professional

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")


def receive(program, gp, imported, day: dt.date, **changes) -> Referral:
    at = dt.datetime(day.year, day.month, day.day, 9, tzinfo=OSLO)
    return referral_receive(
        professional(program, gp, imported["worry-anxiety"], **changes), at=at
    ).referral


def accept() -> DecisionInput:
    return DecisionInput(
        kind="accept",
        reason="Moderat angst med skolefravær; trenger utredning.",
        right_to_care=True,
        latest_start=dt.date(2026, 6, 1),
        thematic_team="general",
    )


def test_the_queue_is_sorted_by_deadline_with_counts_warnings_and_breaches(
    program, gp, imported, intake_member
):
    late = receive(program, gp, imported, dt.date(2026, 3, 2))
    soon = receive(program, gp, imported, dt.date(2026, 3, 13))
    later = receive(program, gp, imported, dt.date(2026, 3, 25))
    queue = intake_queue(user=intake_member, program=program, today=dt.date(2026, 3, 24))
    assert [row.referral for row in queue.rows] == [late, soon, later]
    assert queue.total == 3
    assert queue.counts == {"received": 3}
    assert queue.breaches == 1  # deadline 16 March
    assert queue.rows[0].deadline.is_breached
    # Deadline 27 March: three working days left on 24 March, so warned; 9 April is not.
    assert queue.rows[1].deadline.is_warning
    assert not queue.rows[2].deadline.is_warning
    assert queue.warnings == 1
    breached = intake_queue(
        user=intake_member, program=program, today=dt.date(2026, 3, 24), breached_only=True
    )
    assert [row.referral for row in breached.rows] == [late]


def test_every_row_shown_in_the_queue_and_every_read_is_access_logged(
    program, gp, imported, intake_member
):
    first = receive(program, gp, imported, dt.date(2026, 3, 2))
    receive(program, gp, imported, dt.date(2026, 3, 3))
    intake_queue(user=intake_member, program=program, today=dt.date(2026, 3, 4))
    referral_read(user=intake_member, referral=first)
    logs = AccessLog.objects.filter(actor=intake_member)
    assert logs.count() == 3
    assert set(logs.values_list("purpose", flat=True)) == {"assessment"}
    assert logs.filter(object_key=str(first.code)).count() == 2
    # Both referrals are the same person's: all three reads are on that person's log.
    assert logs.filter(subject_key=str(first.patient.key)).count() == 3
    # The log names the record by its code, never by the person's name or number.
    for log in logs:
        assert first.patient.identity_number not in str(log.__dict__)


def test_an_anonymous_referral_in_the_queue_writes_no_subject_key(program, imported, intake_member):
    referral_receive(
        Submission(program=program, kind=Kind.SELF, referrer_kind="self", reason="Hjelp meg"),
        at=dt.datetime(2026, 3, 2, 9, tzinfo=OSLO),
    )
    queue = intake_queue(user=intake_member, program=program, today=dt.date(2026, 3, 3))
    assert queue.total == 1
    assert not AccessLog.objects.exists()


def test_only_the_programs_intake_team_sees_the_queue_and_decides(
    program, gp, imported, other_team
):
    referral = receive(program, gp, imported, dt.date(2026, 3, 2))
    with pytest.raises(NotAllowed):
        intake_queue(user=other_team, program=program)
    with pytest.raises(NotAllowed):
        referral_read(user=other_team, referral=referral)
    with pytest.raises(NotAllowed):
        decision_make(user=gp, referral=referral, revision=1, decision=accept())
    assert not Decision.objects.exists()
    assert not AccessLog.objects.exists()


def test_a_decision_records_who_when_why_and_moves_the_status(program, gp, imported, intake_member):
    referral = receive(program, gp, imported, dt.date(2026, 3, 2))
    at = dt.datetime(2026, 3, 5, 13, tzinfo=OSLO)
    decision = decision_make(
        user=intake_member, referral=referral, revision=1, decision=accept(), at=at
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.revision == 2
    assert (decision.decided_by, decision.decided_at) == (intake_member, at)
    assert decision.reason.startswith("Moderat angst")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"right_to_care": None}, "right_to_care"),
        ({"latest_start": None}, "latest_start"),
        ({"thematic_team": "astrology"}, "thematic_team"),
        ({"reason": " "}, "reason"),
        ({"against_criteria": True, "justification": ""}, "justification"),
        ({"kind": "reject", "reject_category": ""}, "reject_category"),
        ({"kind": "redirect"}, "redirected_to"),
        ({"kind": "answer"}, "kind"),
    ],
)
def test_an_incomplete_decision_is_refused_and_nothing_changes(
    program, gp, imported, intake_member, changes, field
):
    referral = receive(program, gp, imported, dt.date(2026, 3, 2))
    values = {**accept().__dict__, **changes}
    with pytest.raises(DecisionError) as caught:
        decision_make(
            user=intake_member,
            referral=referral,
            revision=1,
            decision=DecisionInput(**values),
            at=dt.datetime(2026, 3, 5, 13, tzinfo=OSLO),
        )
    assert field in caught.value.problems
    referral.refresh_from_db()
    assert (referral.status, referral.revision) == (ReferralStatus.RECEIVED, 1)
    assert not Decision.objects.exists()


def test_a_decision_from_a_stale_copy_is_a_conflict(program, gp, imported, intake_member):
    referral = receive(program, gp, imported, dt.date(2026, 3, 2))
    Referral.objects.filter(pk=referral.pk).update(revision=2)
    with pytest.raises(Conflict, match="changed after you opened it"):
        decision_make(user=intake_member, referral=referral, revision=1, decision=accept())
    assert not Decision.objects.exists()


def test_a_municipality_is_kept_on_the_referral(program, gp, imported):
    referral = receive(program, gp, imported, dt.date(2026, 3, 2))
    assert referral.municipality == horten()

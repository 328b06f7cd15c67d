"""Two intake team members deciding the same referral at once: one wins, one gets a conflict."""

import datetime as dt
import threading

import pytest
from django.db import connection

from samhandling.intake.models import Decision, ReferralStatus
from samhandling.intake.services.decisions import Conflict, DecisionInput, decision_make
from tests.intake.test_decisions import OSLO, accept, receive


@pytest.mark.django_db(transaction=True)
def test_two_members_deciding_at_once_one_wins_the_other_gets_a_conflict(
    program, gp, imported, intake_member, colleague
):
    referral = receive(program, gp, imported, dt.date(2026, 3, 2))
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def decide(user, kind: str) -> None:
        values = accept().__dict__ | (
            {"kind": "reject", "reject_category": "not_specialist"} if kind == "reject" else {}
        )
        try:
            barrier.wait()
            decision_make(
                user=user,
                referral=referral,
                revision=1,
                decision=DecisionInput(**values),
                at=dt.datetime(2026, 3, 5, 13, tzinfo=OSLO),
            )
            outcomes[user.username] = "decided"
        except Conflict:
            outcomes[user.username] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(intake_member, "accept")),
        threading.Thread(target=decide, args=(colleague, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["conflict", "decided"]
    decision = Decision.objects.get(referral=referral)
    winner = next(name for name, outcome in outcomes.items() if outcome == "decided")
    assert decision.decided_by.username == winner
    referral.refresh_from_db()
    expected = ReferralStatus.ACCEPTED if decision.kind == "accept" else ReferralStatus.REJECTED
    assert (referral.status, referral.revision) == (expected, 2)

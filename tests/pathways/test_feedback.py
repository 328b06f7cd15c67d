"""Traffic-light feedback rounds: opening, answering, and the summary matrix."""

import datetime as dt

import pytest
import time_machine

from samhandling.core.models import Municipality, OrganisationUnit, Role, UnitKind
from samhandling.pathways.models import FeedbackAnswer, FeedbackRound, Verdict
from samhandling.pathways.services.feedback import (
    answer_give,
    round_close,
    round_matrix,
    round_open,
)
from samhandling.pathways.services.workflow import NotAllowed
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

SLUGS = ["sadness-depression", "worry-anxiety", "eating-difficulties"]


@pytest.fixture
def three(imported):
    return [imported[slug] for slug in SLUGS]


@pytest.fixture
def places(db):
    return [Municipality.objects.get(pk=n) for n in ("3901", "3909", "3905")]  # Horten, Larvik…


@pytest.fixture
def round_(three, places, vestfold_editor, vestfold):
    return round_open(
        user=vestfold_editor,
        title="Vår 2026",
        partnership=vestfold,
        pathways=three,
        municipalities=places,
        closes_on=None,
    )


@pytest.fixture
def horten_staff(roles, horten_unit):
    team = OrganisationUnit.objects.create(
        code="horten-skolehelse", name="Skolehelsetjenesten", kind=UnitKind.TEAM, parent=horten_unit
    )
    return make_user("horten-nurse", Role.CLINICIAN, team)


def test_the_summary_matrix_is_right_for_a_round_with_an_updated_and_a_missing_answer(
    round_, three, places, vestfold_editor, horten_staff
):
    sadness, worry, eating = three
    horten, larvik, tonsberg = places
    answer_give(
        user=horten_staff,
        round=round_,
        municipality=horten,
        pathway=sadness,
        verdict="red",
        comment="Vi har ikke kommunepsykolog.",
    )
    # Horten thinks again: the second answer replaces the first.
    answer_give(
        user=horten_staff,
        round=round_,
        municipality=horten,
        pathway=sadness,
        verdict="yellow",
        comment="Må tilpasses: ingen kommunepsykolog ennå.",
    )
    answer_give(
        user=horten_staff,
        round=round_,
        municipality=horten,
        pathway=worry,
        verdict="green",
        comment="",
    )
    for pathway, verdict in ((sadness, "green"), (worry, "red"), (eating, "green")):
        answer_give(
            user=vestfold_editor,
            round=round_,
            municipality=larvik,
            pathway=pathway,
            verdict=verdict,
            comment="" if verdict == "green" else "Mangler lokalt tilbud.",
        )
    answer_give(
        user=vestfold_editor,
        round=round_,
        municipality=tonsberg,
        pathway=sadness,
        verdict="green",
        comment="",
    )

    matrix = round_matrix(round_)

    assert [p.slug for p in matrix.pathways] == sorted(SLUGS)
    assert [m.name for m in matrix.municipalities] == ["Horten", "Larvik", "Tønsberg"]
    assert len(matrix.cells) == 9

    def verdict(pathway, municipality):
        answer = matrix.cells[(pathway.pk, municipality.pk)]
        return answer.verdict if answer else None

    assert verdict(sadness, horten) == "yellow"
    assert matrix.cells[(sadness.pk, horten.pk)].comment.startswith("Må tilpasses")
    assert verdict(worry, horten) == "green"
    assert verdict(eating, horten) is None
    assert [verdict(p, larvik) for p in (sadness, worry, eating)] == ["green", "red", "green"]
    assert [verdict(p, tonsberg) for p in (sadness, worry, eating)] == ["green", None, None]
    counts = {p.slug: matrix.counts[p.pk] for p in three}
    assert (counts["sadness-depression"].green, counts["sadness-depression"].yellow) == (2, 1)
    assert (counts["sadness-depression"].red, counts["sadness-depression"].missing) == (0, 0)
    assert vars(counts["worry-anxiety"]) == {"green": 1, "yellow": 0, "red": 1, "missing": 1}
    assert vars(counts["eating-difficulties"]) == {"green": 1, "yellow": 0, "red": 0, "missing": 2}
    assert vars(matrix.total) == {"green": 4, "yellow": 1, "red": 1, "missing": 3}
    rows = matrix.rows()
    assert rows[0].pathway.slug == "eating-difficulties"
    assert [c.verdict if c else None for c in rows[0].cells] == [None, "green", None]
    assert FeedbackAnswer.objects.filter(round=round_).count() == 6  # the update replaced one


@pytest.mark.parametrize("verdict", ["yellow", "red"])
def test_yellow_and_red_need_a_comment(round_, three, places, horten_staff, verdict):
    with pytest.raises(ValueError, match="needs a comment"):
        answer_give(
            user=horten_staff,
            round=round_,
            municipality=places[0],
            pathway=three[0],
            verdict=verdict,
            comment="   ",
        )
    assert not FeedbackAnswer.objects.exists()


def test_a_municipality_or_pathway_outside_the_round_is_refused(
    round_, imported, places, vestfold_editor
):
    sandefjord = Municipality.objects.get(pk="3907")
    with pytest.raises(ValueError, match="not asked in this round"):
        answer_give(
            user=vestfold_editor,
            round=round_,
            municipality=sandefjord,
            pathway=imported["worry-anxiety"],
            verdict="green",
            comment="",
        )
    with pytest.raises(ValueError, match="not part of this round"):
        answer_give(
            user=vestfold_editor,
            round=round_,
            municipality=places[0],
            pathway=imported["autism-spectrum"],
            verdict="green",
            comment="",
        )
    with pytest.raises(ValueError, match="green, yellow or red"):
        answer_give(
            user=vestfold_editor,
            round=round_,
            municipality=places[0],
            pathway=imported["worry-anxiety"],
            verdict="blue",
            comment="",
        )
    assert not FeedbackAnswer.objects.exists()


def test_staff_of_another_municipality_may_not_answer(round_, three, places, larvik_clinician):
    with pytest.raises(NotAllowed):
        answer_give(
            user=larvik_clinician,
            round=round_,
            municipality=places[0],
            pathway=three[0],
            verdict="green",
            comment="",
        )
    answer_give(
        user=larvik_clinician,
        round=round_,
        municipality=places[1],
        pathway=three[0],
        verdict="green",
        comment="",
    )
    assert list(FeedbackAnswer.objects.values_list("municipality_id", flat=True)) == ["3909"]


def test_staff_of_the_health_trust_do_not_answer_for_the_municipalities(
    round_, three, places, roles, vestfold
):
    trust = OrganisationUnit.objects.create(
        code="siv-test", name="Sykehuset", kind=UnitKind.HEALTH_TRUST, parent=vestfold
    )
    trust.municipalities.set(places)
    clinician = make_user("siv-clinician", Role.CLINICIAN, trust)
    with pytest.raises(NotAllowed):
        answer_give(
            user=clinician,
            round=round_,
            municipality=places[0],
            pathway=three[0],
            verdict="green",
            comment="",
        )


def test_only_editors_open_rounds(three, places, horten_clinician, vestfold):
    with pytest.raises(NotAllowed):
        round_open(
            user=horten_clinician,
            title="X",
            partnership=vestfold,
            pathways=three,
            municipalities=places,
            closes_on=None,
        )
    assert not FeedbackRound.objects.exists()


def test_without_municipalities_a_round_asks_the_whole_partnership(
    three, vestfold_editor, vestfold
):
    round_ = round_open(
        user=vestfold_editor,
        title="Alle",
        partnership=vestfold,
        pathways=three,
        municipalities=[],
        closes_on=None,
    )
    assert set(round_.municipalities.values_list("number", flat=True)) == set(
        vestfold.municipalities.values_list("number", flat=True)
    )
    assert round_.municipalities.count() == 6
    assert round_.opened_by == vestfold_editor


def test_an_empty_round_is_refused(vestfold_editor, places, three):
    with pytest.raises(ValueError, match="at least one pathway"):
        round_open(
            user=vestfold_editor,
            title="Tom",
            partnership=None,
            pathways=[],
            municipalities=places,
            closes_on=None,
        )
    with pytest.raises(ValueError, match="title"):
        round_open(
            user=vestfold_editor,
            title="  ",
            partnership=None,
            pathways=three,
            municipalities=places,
            closes_on=None,
        )
    with pytest.raises(ValueError, match="municipalities"):
        round_open(
            user=vestfold_editor,
            title="Ingen",
            partnership=None,
            pathways=three,
            municipalities=[],
            closes_on=None,
        )
    with (
        time_machine.travel(dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC), tick=False),
        pytest.raises(ValueError, match="already passed"),
    ):
        round_open(
            user=vestfold_editor,
            title="Sent",
            partnership=None,
            pathways=three,
            municipalities=places,
            closes_on=dt.date(2026, 4, 30),
        )
    assert not FeedbackRound.objects.exists()


def test_a_closed_round_takes_no_answers_and_keeps_the_old_ones(
    round_, three, places, vestfold_editor
):
    answer_give(
        user=vestfold_editor,
        round=round_,
        municipality=places[0],
        pathway=three[0],
        verdict=Verdict.GREEN,
        comment="",
    )
    round_close(user=vestfold_editor, round=round_)
    with pytest.raises(ValueError, match="closed"):
        answer_give(
            user=vestfold_editor,
            round=round_,
            municipality=places[0],
            pathway=three[0],
            verdict=Verdict.RED,
            comment="Nei",
        )
    assert FeedbackAnswer.objects.get().verdict == "green"

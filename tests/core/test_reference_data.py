import pytest
from django.core.management import call_command
from django.db.models import Sum

from samhandling.core.models import CatchmentArea, Municipality, OrganisationUnit, PopulationByAge
from samhandling.core.services import (
    ReferenceDataError,
    municipalities_import,
    population_import,
)

pytestmark = pytest.mark.django_db


def test_all_357_municipalities_of_2024_are_loaded_with_county():
    assert Municipality.objects.count() == 357
    horten = Municipality.objects.get(number="3901")
    assert (horten.name, horten.county_name, horten.county_number) == ("Horten", "Vestfold", "39")
    assert Municipality.objects.filter(county_name="Vestfold").count() == 6


def test_population_total_matches_ssb_for_1_january_2024():
    total = PopulationByAge.objects.filter(year=2024).aggregate(total=Sum("population"))["total"]
    assert total == 5_550_203
    youth_vestfold = PopulationByAge.objects.filter(
        municipality__county_number="39", age__gte=12, age__lte=25
    ).aggregate(total=Sum("population"))["total"]
    assert youth_vestfold == 40_907


def test_health_trust_areas_become_partnerships_with_their_municipalities():
    vestfold = CatchmentArea.objects.get(name="Vestfold")
    assert vestfold.health_trust == "Sykehuset i Vestfold HF"
    partnership = OrganisationUnit.objects.get(code="helsefellesskap-vestfold")
    assert sorted(partnership.municipalities.values_list("number", flat=True)) == [
        "3901",
        "3903",
        "3905",
        "3907",
        "3909",
        "3911",
    ]


def test_second_load_changes_nothing():
    before = list(PopulationByAge.objects.order_by("pk").values_list("pk", flat=True)[:5])
    call_command("load_reference", verbosity=0)
    result = population_import()
    assert (result.created, result.updated) == (0, 0)
    assert Municipality.objects.count() == 357
    assert list(PopulationByAge.objects.order_by("pk").values_list("pk", flat=True)[:5]) == before


def test_malformed_municipality_file_is_rejected_and_changes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "kommunenummer,name,official_name,fylkesnummer,fylke\n"
        "3901,Horten-renamed,Horten,39,Vestfold\n"
        "39X1,Broken,Broken,39,Vestfold\n",
        encoding="utf-8",
    )
    with pytest.raises(ReferenceDataError, match="line 3"):
        municipalities_import(path=bad)
    assert Municipality.objects.get(number="3901").name == "Horten"


def test_missing_column_is_named(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("kommunenummer,age\n0301,1\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="population"):
        population_import(path=bad)

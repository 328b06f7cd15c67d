"""JSON API of the care pathways: /api/v1/pathways, one pathway, and its referral checklist."""

import copy
import datetime as dt
import re

import pytest

from samhandling.directory.services.demo import demo_service_code
from samhandling.pathways.api import PathwayChecklist, PathwayDetail, PathwayList
from samhandling.pathways.models import Pathway, PathwayVersion, ScopeKind, Status
from samhandling.pathways.services import workflow
from samhandling.pathways.services.content import CHECKLIST_SECTIONS, PHASE_KINDS

pytestmark = pytest.mark.django_db

LIST = "/api/v1/pathways"
EIGHT = {
    "infant-concern",
    "sadness-depression",
    "worry-anxiety",
    "attention-difficulties",
    "violence-abuse-neglect",
    "eating-difficulties",
    "autism-spectrum",
    "complex-trauma",
}


def base_of(pathway: Pathway) -> PathwayVersion:
    return pathway.versions.get(scope=ScopeKind.BASE, status=Status.PUBLISHED)


def slugs(response) -> set[str]:
    return {item["slug"] for item in response.json()["items"]}


def _comparable(value):
    """The value with datetimes parsed and cut to milliseconds, as the API renders them."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", value):
        moment = dt.datetime.fromisoformat(value)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return value


def assert_matches_schema(schema, body: dict) -> None:
    """Every field the schema has and no other: the API's output is its documented shape."""
    dumped = schema.model_validate(body).model_dump(mode="json")
    assert _comparable(dumped) == _comparable(body)


def steps_by_key(body: dict) -> dict[str, dict]:
    return {step["key"]: step for phase in body["phases"] for step in phase["steps"]}


# --- the list ---------------------------------------------------------------------------


def test_list_gives_every_published_pathway_with_its_metadata(client, imported):
    response = client.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 8
    assert slugs(response) == EIGHT
    item = next(i for i in body["items"] if i["slug"] == "worry-anxiety")
    version = base_of(imported["worry-anxiety"])
    assert item["title"] == {"nb": "Bekymring og angst", "nn": "Uro og angst"}
    assert item["target_group"] == version.content["target_group"]
    assert item["summary"] == version.content["summary"]
    assert item["ages"] == {"min": 6, "max": 18}
    assert [n["code"] for n in item["needs"]] == ["anxiety"]
    assert item["needs"][0]["name_nb"]
    assert item["version"] == 1
    published = dt.datetime.fromisoformat(item["published"])
    assert abs(published - version.published_at) < dt.timedelta(milliseconds=1)
    assert item["next_revision"] == version.next_revision.isoformat()
    assert item["is_demo"] is True
    assert item["url"] == "http://testserver/pathways/worry-anxiety/"
    assert client.get(item["url"]).status_code == 200


def test_list_is_sorted_by_bokmal_title(client, imported):
    titles = [item["title"]["nb"] for item in client.get(LIST).json()["items"]]

    assert titles == sorted(titles, key=str.casefold)


def test_list_filters_by_text_in_title_or_summary_in_either_language(client, imported):
    assert slugs(client.get(LIST, {"q": "ANGST"})) >= {"worry-anxiety"}
    # "Uro og angst" is only the nynorsk title; "uro" is in no bokmål title.
    by_nynorsk = slugs(client.get(LIST, {"q": "uro og angst"}))
    assert by_nynorsk == {"worry-anxiety"}
    assert slugs(client.get(LIST, {"q": "finnes ikke i noe forløp"})) == set()


def test_list_filters_by_need_and_by_age(client, imported):
    anxiety = {
        slug for slug, pathway in imported.items() if "anxiety" in base_of(pathway).content["needs"]
    }
    assert "worry-anxiety" in anxiety
    assert slugs(client.get(LIST, {"need": "anxiety"})) == anxiety

    toddlers = slugs(client.get(LIST, {"age": "2"}))
    assert "infant-concern" in toddlers
    assert "worry-anxiety" not in toddlers  # 6–18
    for slug in toddlers:
        content = base_of(imported[slug]).content
        assert content["age_min"] <= 2 <= content["age_max"]


def test_list_filters_combine_and_several_needs_mean_any(client, imported):
    either = slugs(client.get(LIST, {"need": ["anxiety", "sleep"]}))
    assert {"worry-anxiety", "infant-concern"} <= either

    both = slugs(client.get(LIST, {"need": ["anxiety", "sleep"], "age": "2"}))
    assert "infant-concern" in both
    assert "worry-anxiety" not in both


def test_list_answers_with_and_without_trailing_slash(client, imported):
    assert slugs(client.get(LIST + "/")) == slugs(client.get(LIST)) == EIGHT


def test_list_takes_a_fixed_number_of_queries(client, imported, django_assert_num_queries):
    # The needs, then the published base versions with their pathways.
    with django_assert_num_queries(2):
        response = client.get(LIST)
    assert response.json()["total"] == 8


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"need": "nope"}, "need"),
        ({"age": "abc"}, "age"),
        ({"age": "200"}, "age"),
        ({"q": "x" * 300}, "q"),
    ],
)
def test_bad_list_query_is_422_naming_the_field(client, imported, query, field):
    response = client.get(LIST, query)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(field in [str(part) for part in error["loc"]] for error in detail)
    assert all(error["msg"] for error in detail)


def test_list_output_matches_its_published_schema_exactly(client, imported):
    body = client.get(LIST).json()

    assert_matches_schema(PathwayList, body)


# --- only published versions --------------------------------------------------------------


@pytest.fixture
def draft_title(imported, base_editor) -> PathwayVersion:
    """A draft of worry-anxiety with a new title, saved but not published."""
    draft = workflow.draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    content = copy.deepcopy(draft.content)
    content["title"] = {"nb": "Utkast til ny tittel", "nn": "Utkast til ny tittel"}
    content["checklist"]["urgent_signs"].append(
        {"key": "draft-sign", "text": {"nb": "Nytt tegn", "nn": "Nytt teikn"}}
    )
    return workflow.draft_save(
        user=base_editor, version=draft, content=content, revision=draft.revision
    )


def test_a_draft_with_a_new_title_shows_nowhere_in_the_api(client, draft_title):
    assert draft_title.status == Status.DRAFT
    assert draft_title.content["title"]["nb"] == "Utkast til ny tittel"

    listed = client.get(LIST).json()["items"]
    detail = client.get(f"{LIST}/worry-anxiety").json()
    checklist = client.get(f"{LIST}/worry-anxiety/checklist").json()

    worry = next(i for i in listed if i["slug"] == "worry-anxiety")
    assert worry["title"]["nb"] == "Bekymring og angst"
    assert worry["version"] == 1
    assert "Utkast" not in str(listed)
    assert detail["title"]["nb"] == "Bekymring og angst"
    assert detail["version"] == 1
    keys = [item["key"] for item in checklist["sections"]["urgent_signs"]]
    assert "draft-sign" not in keys
    assert checklist["version"] == 1


def test_a_pathway_with_only_a_draft_is_neither_listed_nor_found(client, imported):
    content = copy.deepcopy(base_of(imported["worry-anxiety"]).content)
    content["slug"] = "never-published"
    pathway = Pathway.objects.create(slug="never-published")
    PathwayVersion.objects.create(
        pathway=pathway, scope=ScopeKind.BASE, number=1, status=Status.DRAFT, content=content
    )

    assert "never-published" not in slugs(client.get(LIST))
    assert client.get(f"{LIST}/never-published").status_code == 404
    assert client.get(f"{LIST}/never-published/checklist").status_code == 404


# --- one pathway --------------------------------------------------------------------------


def test_one_pathway_has_its_five_phases_steps_and_checklist(client, imported):
    response = client.get(f"{LIST}/worry-anxiety")

    assert response.status_code == 200
    body = response.json()
    document = base_of(imported["worry-anxiety"]).content
    assert body["slug"] == "worry-anxiety"
    assert body["municipality"] is None
    assert body["adaptations"] == []
    assert [p["kind"] for p in body["phases"]] == list(PHASE_KINDS)
    assert body["phases"][2]["label"] == "Henvisning"  # bokmål by default
    assert body["phases"][2]["title"] == document["phases"][2]["title"]
    base_steps = [s["key"] for phase in document["phases"] for s in phase["steps"]]
    assert list(steps_by_key(body)) == base_steps
    step = steps_by_key(body)["gp-assessment"]
    raw = document["phases"][2]["steps"][0]
    assert step["title"] == raw["title"]
    assert step["body"] == raw["body"]
    assert step["role"] == raw["role"]
    assert step["tools"] == raw["tools"]
    assert step["level"] == "targeted"
    assert (step["origin"], step["added"], step["differs_from_base"]) == ("base", False, False)
    assert step["changed"] == []
    # Without a municipality only pinned services are linked, and the base pins none.
    assert all(s["services"] == [] for s in steps_by_key(body).values())
    assert list(body["checklist"]) == list(CHECKLIST_SECTIONS)
    assert body["checklist"]["urgent_signs"] == document["checklist"]["urgent_signs"]


def test_phase_labels_follow_the_requested_language(client, imported):
    body = client.get(f"{LIST}/worry-anxiety", headers={"Accept-Language": "en"}).json()

    assert body["phases"][2]["label"] == "Referral"
    assert body["title"]["nb"] == "Bekymring og angst"  # the pathway's own texts stay as data


def test_for_horten_the_municipal_adaptation_is_applied_and_marked(client, imported):
    body = client.get(f"{LIST}/worry-anxiety", {"municipality": "3901"}).json()

    assert body["municipality"] == {"number": "3901", "name": "Horten"}
    assert body["url"] == "http://testserver/pathways/worry-anxiety/?municipality=3901"
    page = client.get(body["url"]).content.decode()
    assert "I Horten har skolehelsetjenesten" in page
    [adaptation] = body["adaptations"]
    assert adaptation["scope"] == "municipality"
    assert adaptation["version"] == 1
    assert adaptation["municipality"] == {"number": "3901", "name": "Horten"}
    assert adaptation["partnership"] is None
    assert adaptation["published"]
    assert adaptation["note"]["nb"].startswith("Horten kommunes tilpasning")
    steps = steps_by_key(body)
    talk = steps["talk-with-child"]
    assert "I Horten har skolehelsetjenesten" in talk["body"]["nb"]
    assert "I Horten har skulehelsetenesta" in talk["body"]["nn"]
    assert (talk["origin"], talk["added"], talk["differs_from_base"]) == (
        "municipality",
        False,
        True,
    )
    assert talk["changed"] == ["body"]
    assert [s["code"] for s in talk["services"]] == [
        str(demo_service_code(key))
        for key in [
            "horten-skolehelsetjenesten",
            "horten-ungdomsarena",
            "horten-helsestasjon-for-ungdom",
        ]
    ]
    service = talk["services"][0]
    assert service["name"]["nb"] == "Skolehelsetjenesten i Horten"
    assert service["url"] == f"http://testserver/services/{service['code']}/"
    assert client.get(service["url"].removeprefix("http://testserver")).status_code == 200
    added = steps["horten-family-house-meeting"]
    assert (added["origin"], added["added"], added["differs_from_base"]) == (
        "municipality",
        True,
        True,
    )
    targeted = [s["key"] for s in body["phases"][1]["steps"]]
    assert targeted.index("horten-family-house-meeting") == targeted.index("parent-group") + 1
    untouched = steps["gp-assessment"]
    assert (untouched["origin"], untouched["differs_from_base"]) == ("base", False)
    # With a municipality, steps with a service spec link the services serving it.
    assert untouched["services"]


def test_a_vestfold_municipality_gets_the_helsefellesskap_adaptation(client, imported):
    body = client.get(f"{LIST}/sadness-depression", {"municipality": "3905"}).json()

    [adaptation] = body["adaptations"]
    assert adaptation["scope"] == "partnership"
    assert adaptation["partnership"]["code"] == "helsefellesskap-vestfold"
    assert adaptation["municipality"] is None
    step = steps_by_key(body)["referral-bup"]
    assert step["origin"] == "partnership"
    assert step["differs_from_base"] is True
    assert "vestfold-joint-intake-meeting" in steps_by_key(body)


def test_a_municipality_without_adaptations_gets_the_base_text(client, imported):
    national = client.get(f"{LIST}/worry-anxiety").json()
    oslo = client.get(f"{LIST}/worry-anxiety", {"municipality": "0301"}).json()

    assert oslo["municipality"]["number"] == "0301"
    assert oslo["adaptations"] == []
    assert [s["body"] for s in steps_by_key(oslo).values()] == [
        s["body"] for s in steps_by_key(national).values()
    ]
    assert not any(s["differs_from_base"] for s in steps_by_key(oslo).values())


def test_one_pathway_answers_with_and_without_trailing_slash(client, imported):
    for url in [f"{LIST}/worry-anxiety", f"{LIST}/worry-anxiety/"]:
        response = client.get(url, {"municipality": "3901"})
        assert response.status_code == 200
        assert response.json()["adaptations"][0]["scope"] == "municipality"


@pytest.mark.parametrize("slug", ["nope", "worry", "WORRY-ANXIETY"])
def test_an_unknown_pathway_is_404_json(client, imported, slug):
    response = client.get(f"{LIST}/{slug}")

    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize("number", ["39", "abcd", "39011", "9999"])
def test_a_malformed_or_unknown_municipality_is_422_like_the_directory(client, imported, number):
    for url in [f"{LIST}/worry-anxiety", f"{LIST}/worry-anxiety/checklist"]:
        response = client.get(url, {"municipality": number}, headers={"Accept-Language": "en"})
        assert response.status_code == 422
        assert response.json() == {
            "detail": [
                {
                    "loc": ["query", "municipality"],
                    "msg": "Unknown municipality. Choose one from the list or give its "
                    "four-digit number.",
                    "type": "value_error",
                }
            ]
        }


def test_one_pathway_output_matches_its_published_schema_exactly(client, imported):
    body = client.get(f"{LIST}/worry-anxiety", {"municipality": "3901"}).json()

    assert_matches_schema(PathwayDetail, body)


# --- the checklist ------------------------------------------------------------------------


def test_checklist_is_the_four_sections_with_keys_and_both_languages(client, imported):
    response = client.get(f"{LIST}/worry-anxiety/checklist")

    assert response.status_code == 200
    body = response.json()
    version = base_of(imported["worry-anxiety"])
    assert set(body) == {"pathway", "version", "published", "municipality", "sections"}
    assert body["pathway"] == "worry-anxiety"
    assert body["version"] == version.number
    assert body["municipality"] is None
    assert list(body["sections"]) == list(CHECKLIST_SECTIONS)
    for section in CHECKLIST_SECTIONS:
        assert body["sections"][section] == version.content["checklist"][section]
        for item in body["sections"][section]:
            assert set(item) == {"key", "text"}
            assert set(item["text"]) == {"nb", "nn"}
    assert body["sections"]["required_information"][0] == {
        "key": "reason",
        "text": {
            "nb": "Hva barnet er redd for, og hvordan angsten viser seg",
            "nn": "Kva barnet er redd for, og korleis angsten viser seg",
        },
    }


def test_checklist_for_a_municipality_names_it(client, imported):
    national = client.get(f"{LIST}/worry-anxiety/checklist").json()
    horten = client.get(f"{LIST}/worry-anxiety/checklist/", {"municipality": "3901"}).json()

    assert horten["municipality"] == "3901"
    assert horten["sections"] == national["sections"]


def test_every_packaged_pathway_has_a_checklist_matching_its_schema(client, imported):
    for slug in EIGHT:
        body = client.get(f"{LIST}/{slug}/checklist").json()
        assert_matches_schema(PathwayChecklist, body)
        assert sum(len(items) for items in body["sections"].values()) > 0


def test_checklist_of_an_unknown_pathway_is_404(client, imported):
    response = client.get(f"{LIST}/nope/checklist")

    assert response.status_code == 404
    assert response.json()["detail"]


# --- the schema -------------------------------------------------------------------------


def test_openapi_schema_describes_the_pathway_endpoints(client, imported):
    schema = client.get("/api/v1/openapi.json").json()

    paths = schema["paths"]
    for path in [LIST, f"{LIST}/{{slug}}", f"{LIST}/{{slug}}/checklist"]:
        assert path in paths
        assert paths[path]["get"]["description"]
        assert paths[path]["get"]["summary"]
    assert f"{LIST}/" not in paths
    assert {p["name"] for p in paths[LIST]["get"]["parameters"]} == {"q", "need", "age"}
    assert set(paths[LIST]["get"]["responses"]) == {"200", "422"}
    detail = paths[f"{LIST}/{{slug}}"]["get"]
    assert {p["name"] for p in detail["parameters"]} == {"slug", "municipality"}
    assert set(detail["responses"]) == {"200", "404", "422"}
    components = schema["components"]["schemas"]
    sections = components["PathwayChecklistSections"]
    assert set(sections["properties"]) == set(CHECKLIST_SECTIONS)
    assert set(sections["required"]) == set(CHECKLIST_SECTIONS)
    assert set(components["PathwayChecklist"]["properties"]) == {
        "pathway",
        "version",
        "published",
        "municipality",
        "sections",
    }
    assert "differs_from_base" in components["PathwayStep"]["properties"]
    # The directory's own schemas are still there, not overwritten.
    assert "ServiceOut" in components

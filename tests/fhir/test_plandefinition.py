"""FHIR PlanDefinition read and search of the care pathways; every resource parses as R4 (R4B)."""

import copy
import datetime as dt

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.plandefinition import PlanDefinition

from samhandling.core.models import OrganisationUnit
from samhandling.directory.services.demo import demo_service_code
from samhandling.fhir.mapping import SYSTEM_KOMMUNENUMMER, SYSTEM_LEVEL, SYSTEM_NEED
from samhandling.fhir.plandefinition import (
    SEARCH_PARAM_PD_MUNICIPALITY,
    SYSTEM_CHECKLIST_SECTION,
    SYSTEM_PATHWAY,
    SYSTEM_PHASE,
    SYSTEM_STEP_ORIGIN,
    TRANSLATION,
)
from samhandling.pathways.models import (
    PathwayVersion,
    ScopeKind,
    Status,
)
from samhandling.pathways.services import workflow
from samhandling.pathways.services.content import (
    CHECKLIST_SECTIONS,
    PHASE_KINDS,
)

pytestmark = pytest.mark.django_db

EIGHT = [
    "attention-difficulties",
    "autism-spectrum",
    "complex-trauma",
    "eating-difficulties",
    "infant-concern",
    "sadness-depression",
    "violence-abuse-neglect",
    "worry-anxiety",
]
VESTFOLD = ["3901", "3903", "3905", "3907", "3909", "3911"]
LOCAL = [f"sadness-depression--{n}" for n in VESTFOLD] + ["worry-anxiety--3901"]
ALL = sorted(EIGHT + LOCAL)


# The same as the fixtures of tests/pathways/conftest.py, which this directory does not see.
def base_content(pathway) -> dict:
    return pathway.versions.get(scope=ScopeKind.BASE, status=Status.PUBLISHED).content


def read(client, id: str) -> dict:
    response = client.get(f"/fhir/PlanDefinition/{id}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    PlanDefinition.model_validate(response.json())
    return response.json()


def search(client, **params) -> tuple[Bundle, dict]:
    response = client.get("/fhir/PlanDefinition", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    document = response.json()
    bundle = Bundle.model_validate(document)
    assert bundle.type == "searchset"
    for entry in document.get("entry", []):
        PlanDefinition.model_validate(entry["resource"])
    return bundle, document


def ids(document: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in document.get("entry", [])]


def phase(resource: dict, kind: str) -> dict:
    return next(a for a in resource["action"] if a["id"] == kind)


def step(resource: dict, key: str) -> dict:
    return next(s for p in resource["action"] for s in p["action"] if s["id"] == key)


def translation(element: dict) -> str:
    [extension] = element["extension"]
    assert extension["url"] == TRANSLATION
    parts = {e["url"]: e for e in extension["extension"]}
    assert parts["lang"]["valueCode"] == "nn"
    return parts["content"]["valueString"]


def all_action_ids(actions: list[dict]) -> list[str]:
    found = []
    for action in actions:
        found.append(action["id"])
        found += all_action_ids(action.get("action", []))
    return found


# --- read -----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", EIGHT)
def test_every_packaged_pathway_reads_as_a_valid_plandefinition(client, imported, slug):
    resource = read(client, slug)
    document = base_content(imported[slug])

    assert resource["id"] == slug
    assert resource["url"] == f"http://testserver/fhir/PlanDefinition/{slug}"
    assert resource["status"] == "active"
    assert resource["title"] == document["title"]["nb"]
    assert [a["id"] for a in resource["action"]] == list(PHASE_KINDS)
    for kind, action in zip(PHASE_KINDS, resource["action"], strict=True):
        base_keys = [s["key"] for p in document["phases"] if p["kind"] == kind for s in p["steps"]]
        nested = [a["id"] for a in action["action"]]
        expected = [*base_keys, "referral-checklist"] if kind == "referral" else base_keys
        assert nested == expected
    ids_in_resource = all_action_ids(resource["action"])
    assert len(ids_in_resource) == len(set(ids_in_resource))


def test_read_maps_the_metadata_of_the_national_version(client, imported):
    version = imported["worry-anxiety"].versions.get(scope=ScopeKind.BASE)
    document = version.content

    resource = read(client, "worry-anxiety")

    assert resource["identifier"] == [{"system": SYSTEM_PATHWAY, "value": "worry-anxiety"}]
    assert resource["version"] == "1"
    assert resource["name"] == "WorryAnxiety"
    assert resource["title"] == "Bekymring og angst"
    assert translation(resource["_title"]) == "Uro og angst"
    assert resource["type"]["coding"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
            "code": "clinical-protocol",
            "display": "Clinical Protocol",
        }
    ]
    assert resource["experimental"] is True  # skeleton demo content
    date = dt.datetime.fromisoformat(resource["date"])
    assert abs(date - version.published_at) < dt.timedelta(milliseconds=1)
    assert resource["publisher"] == "Samhandling"
    assert resource["description"] == document["summary"]["nb"]
    assert translation(resource["_description"]) == document["summary"]["nn"]
    assert resource["purpose"] == document["target_group"]["nb"]
    [age] = resource["useContext"]
    assert age["code"]["code"] == "age"
    assert age["code"]["system"] == "http://terminology.hl7.org/CodeSystem/usage-context-type"
    assert (age["valueRange"]["low"]["value"], age["valueRange"]["high"]["value"]) == (6, 18)
    assert age["valueRange"]["low"]["code"] == "a"
    assert resource["jurisdiction"][0]["coding"][0]["code"] == "NO"
    assert [t["coding"][0]["code"] for t in resource["topic"]] == ["anxiety"]
    assert resource["topic"][0]["coding"][0]["system"] == SYSTEM_NEED
    assert resource["relatedArtifact"] == [
        {
            "type": "documentation",
            "display": "Forløpet på nett",  # the platform's default language, bokmål
            "url": "http://testserver/pathways/worry-anxiety/",
        }
    ]


def test_phases_and_steps_become_nested_actions(client, imported):
    document = base_content(imported["worry-anxiety"])
    raw = document["phases"][2]["steps"][0]

    resource = read(client, "worry-anxiety")

    referral = phase(resource, "referral")
    assert referral["title"] == "Henvisning"  # the label, in the request's language (bokmål)
    assert referral["code"][0]["coding"][0] == {
        "system": SYSTEM_PHASE,
        "code": "referral",
        "display": "Henvisning",
    }
    assert referral["description"] == document["phases"][2]["title"]["nb"]
    gp = step(resource, raw["key"])
    assert gp["title"] == raw["title"]["nb"]
    assert gp["description"] == raw["body"]["nb"]
    assert translation(gp["_description"]) == raw["body"]["nn"]
    assert gp["participant"] == [{"type": "practitioner", "role": {"text": raw["role"]["nb"]}}]
    codes = {c["coding"][0]["system"]: c["coding"][0]["code"] for c in gp["code"]}
    assert codes == {SYSTEM_LEVEL: raw["level"], SYSTEM_STEP_ORIGIN: "base"}
    # Nationally no services are linked, only the tools named.
    assert [d["display"] for d in gp["documentation"]] == [t["nb"] for t in raw["tools"]]
    assert all("url" not in d for d in gp["documentation"])


def test_the_phase_labels_follow_the_requested_language(client, imported):
    response = client.get("/fhir/PlanDefinition/worry-anxiety", headers={"Accept-Language": "en"})

    assert phase(response.json(), "referral")["title"] == "Referral"


def test_the_referral_checklist_is_an_action_under_the_referral_phase(client, imported):
    checklist = base_content(imported["worry-anxiety"])["checklist"]

    resource = read(client, "worry-anxiety")

    action = phase(resource, "referral")["action"][-1]
    assert action["id"] == "referral-checklist"
    assert action["title"]
    expected = [f"{s}.{item['key']}" for s in CHECKLIST_SECTIONS for item in checklist[s]]
    assert [item["id"] for item in action["action"]] == expected
    first = action["action"][0]
    assert first["id"] == "required_information.reason"
    assert first["title"] == "Hva barnet er redd for, og hvordan angsten viser seg"
    assert translation(first["_title"]) == "Kva barnet er redd for, og korleis angsten viser seg"
    for item in action["action"]:
        [code] = item["code"]
        section = item["id"].split(".")[0]
        assert code["coding"][0]["system"] == SYSTEM_CHECKLIST_SECTION
        assert code["coding"][0]["code"] == section
        assert item.get("priority") == ("urgent" if section == "urgent_signs" else None)
    assert any(item.get("priority") == "urgent" for item in action["action"])


def test_horten_reads_its_local_version_with_its_services(client, imported):
    resource = read(client, "worry-anxiety--3901")

    assert resource["id"] == "worry-anxiety--3901"
    assert resource["url"] == "http://testserver/fhir/PlanDefinition/worry-anxiety--3901"
    assert resource["identifier"][0]["value"] == "worry-anxiety--3901"
    assert resource["version"] == "1+m1"
    assert resource["name"] == "WorryAnxiety_3901"
    assert resource["publisher"] == "Horten"
    assert resource["jurisdiction"][0]["coding"][0] == {
        "system": SYSTEM_KOMMUNENUMMER,
        "code": "3901",
        "display": "Horten",
    }
    page = next(r for r in resource["relatedArtifact"] if r["type"] == "documentation")
    assert page["url"] == "http://testserver/pathways/worry-anxiety/?municipality=3901"
    assert "I Horten har skolehelsetjenesten" in client.get(page["url"]).content.decode()
    derived = next(r for r in resource["relatedArtifact"] if r["type"] == "derived-from")
    assert derived["resource"] == "http://testserver/fhir/PlanDefinition/worry-anxiety"
    talk = step(resource, "talk-with-child")
    assert "I Horten har skolehelsetjenesten" in talk["description"]
    origin = next(c for c in talk["code"] if c["coding"][0]["system"] == SYSTEM_STEP_ORIGIN)
    assert origin["coding"][0]["code"] == "municipality"
    links = [d["url"] for d in talk["documentation"] if "url" in d]
    pinned = [
        "horten-skolehelsetjenesten",
        "horten-ungdomsarena",
        "horten-helsestasjon-for-ungdom",
    ]
    assert links == [
        f"http://testserver/fhir/HealthcareService/{demo_service_code(key)}" for key in pinned
    ]
    service = client.get(links[0].removeprefix("http://testserver"))
    assert service.status_code == 200
    assert HealthcareService.model_validate(service.json()).name == "Skolehelsetjenesten i Horten"
    targeted = [a["id"] for a in phase(resource, "targeted")["action"]]
    assert targeted.index("horten-family-house-meeting") == targeted.index("parent-group") + 1


def test_a_vestfold_municipality_reads_the_helsefellesskap_adaptation(client, imported):
    vestfold = OrganisationUnit.objects.get(code="helsefellesskap-vestfold")

    resource = read(client, "sadness-depression--3905")

    assert resource["version"] == "1+p1"
    assert resource["publisher"] == vestfold.name
    assert resource["jurisdiction"][0]["coding"][0]["code"] == "3905"
    referral = [a["id"] for a in phase(resource, "referral")["action"]]
    assert "vestfold-joint-intake-meeting" in referral
    assert referral[-1] == "referral-checklist"


@pytest.mark.parametrize("id", LOCAL)
def test_every_local_version_is_a_valid_plandefinition(client, imported, id):
    resource = read(client, id)

    assert resource["id"] == id
    ids_in_resource = all_action_ids(resource["action"])
    assert len(ids_in_resource) == len(set(ids_in_resource))


@pytest.mark.parametrize(
    "id",
    [
        "nope",
        "worry-anxiety--3905",  # no adaptation applies in Tønsberg
        "worry-anxiety--9999",
        "worry-anxiety--39011",
        "Worry-Anxiety",
        "worry--anxiety",
    ],
)
def test_reading_an_id_that_is_not_served_is_a_404_operation_outcome(client, imported, id):
    response = client.get(f"/fhir/PlanDefinition/{id}")

    assert response.status_code == 404
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "not-found"


# --- only published versions ----------------------------------------------------------------


def test_a_draft_with_a_new_title_is_never_served(client, imported, base_editor):
    draft = workflow.draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    content = copy.deepcopy(draft.content)
    content["title"] = {"nb": "Utkast til ny tittel", "nn": "Utkast til ny tittel"}
    workflow.draft_save(user=base_editor, version=draft, content=content, revision=draft.revision)

    _, found = search(client, title="utkast")
    resource = read(client, "worry-anxiety")
    local = read(client, "worry-anxiety--3901")

    assert ids(found) == []
    assert resource["title"] == local["title"] == "Bekymring og angst"
    assert resource["version"] == "1"
    assert PathwayVersion.objects.filter(status=Status.DRAFT).count() == 1


# --- search ---------------------------------------------------------------------------------


def test_search_lists_the_national_and_every_local_version(client, imported):
    bundle, document = search(client)

    assert bundle.total == len(ALL) == 15
    assert ids(document) == ALL
    entry = document["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/fhir/PlanDefinition/{entry['resource']['id']}"
    assert entry["search"] == {"mode": "match"}


def test_search_by_title_is_case_insensitive_in_either_language(client, imported):
    _, by_bokmal = search(client, title="BEKYMRING OG")
    _, by_nynorsk = search(client, title="uro og")
    _, exact = search(client, **{"title:exact": "Uro og angst"})
    _, not_exact = search(client, **{"title:exact": "uro og angst"})

    assert ids(by_bokmal) == ["worry-anxiety", "worry-anxiety--3901"]
    assert ids(by_nynorsk) == ["worry-anxiety", "worry-anxiety--3901"]
    assert ids(exact) == ["worry-anxiety", "worry-anxiety--3901"]
    assert ids(not_exact) == []


def test_search_by_name_matches_the_machine_name_or_short_name(client, imported):
    _, by_machine = search(client, name="worryanx")
    _, by_slug = search(client, name="worry-anx")

    assert ids(by_machine) == ids(by_slug) == ["worry-anxiety", "worry-anxiety--3901"]


def test_search_by_id_returns_those_resources(client, imported):
    _, document = search(client, _id="worry-anxiety--3901,complex-trauma,nope")

    assert ids(document) == ["complex-trauma", "worry-anxiety--3901"]


def test_search_by_status_active_matches_all_and_other_statuses_none(client, imported):
    active, _ = search(client, status="active")
    draft, _ = search(client, status="draft")
    with_system, _ = search(client, status="http://hl7.org/fhir/publication-status|active")

    assert active.total == with_system.total == 15
    assert draft.total == 0


def test_search_by_topic_matches_the_needs(client, imported):
    _, document = search(client, topic=f"{SYSTEM_NEED}|anxiety")

    expected = [
        id for id in ALL if "anxiety" in base_content(imported[id.split("--")[0]]).get("needs", [])
    ]
    assert "worry-anxiety" in ids(document)
    assert ids(document) == expected


def test_search_by_municipality_gives_the_version_that_applies_there(client, imported):
    _, horten = search(client, municipality="3901")
    _, tonsberg = search(client, municipality=f"{SYSTEM_KOMMUNENUMMER}|3905")
    _, oslo = search(client, municipality="0301")

    horten_ids = [id for id in EIGHT if id not in {"sadness-depression", "worry-anxiety"}]
    assert ids(horten) == sorted([*horten_ids, "sadness-depression--3901", "worry-anxiety--3901"])
    assert ids(tonsberg) == sorted(
        [id for id in EIGHT if id != "sadness-depression"] + ["sadness-depression--3905"]
    )
    assert ids(oslo) == EIGHT


def test_search_by_jurisdiction_matches_the_resource_jurisdiction(client, imported):
    _, national = search(client, jurisdiction="urn:iso:std:iso:3166|NO")
    _, horten = search(client, jurisdiction="3901")

    assert ids(national) == EIGHT
    assert ids(horten) == ["sadness-depression--3901", "worry-anxiety--3901"]


def test_search_parameters_combine_as_and(client, imported):
    _, document = search(client, municipality="3901", title="angst")

    assert ids(document) == ["worry-anxiety--3901"]


def test_search_pages_with_count_and_offset(client, imported):
    bundle, first = search(client, _count="4")

    assert bundle.total == 15
    assert ids(first) == ALL[:4]
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert links["self"].startswith("http://testserver/fhir/PlanDefinition?")
    assert "_offset=4" in links["next"]
    second = client.get(links["next"]).json()
    Bundle.model_validate(second)
    assert ids(second) == ALL[4:8]
    _, last = search(client, _count="4", _offset="12")
    assert ids(last) == ALL[12:]
    assert "next" not in {link["relation"] for link in last["link"]}


def test_search_with_no_match_is_an_empty_searchset(client, imported):
    bundle, document = search(client, title="finnes ikke")

    assert bundle.total == 0
    assert "entry" not in document


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"colour": "green"}, "Unknown search parameter"),
        ({"title:sounds-like": "x"}, "Unknown search parameter"),
        ({"status": "published"}, "Unknown status"),
        ({"municipality": "39"}, "4 digits"),
        ({"municipality": "9999"}, "no municipality"),
        ({"municipality": "http://example.org|3901"}, "Unknown code system"),
        ({"jurisdiction": "SE"}, "4 digits"),
        ({"topic": "nope"}, "Unknown topic"),
        ({"_id": "Not An Id"}, "pathway id"),
        ({"_count": "ten"}, "whole number"),
    ],
)
def test_bad_search_parameters_are_a_400_operation_outcome(client, imported, params, text):
    response = client.get("/fhir/PlanDefinition", params, headers={"Accept-Language": "en"})

    assert response.status_code == 400
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "invalid"
    assert text in outcome.issue[0].diagnostics


def test_post_to_the_search_endpoint_is_refused(client, imported):
    response = client.post("/fhir/PlanDefinition", {}, content_type="application/fhir+json")

    assert response.status_code == 405
    OperationOutcome.model_validate(response.json())


def test_searching_the_national_versions_takes_a_fixed_number_of_queries(
    client, imported, django_assert_max_num_queries
):
    # Versions, adaptations, helsefellesskap members, municipalities (twice), needs.
    with django_assert_max_num_queries(7):
        response = client.get("/fhir/PlanDefinition", {"jurisdiction": "NO"})
    assert response.json()["total"] == 8


# --- metadata -------------------------------------------------------------------------------


def test_metadata_lists_plandefinition_read_and_search(client):
    response = client.get("/fhir/metadata")

    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    resources = {r["type"]: r for r in response.json()["rest"][0]["resource"]}
    plan = resources["PlanDefinition"]
    assert {i["code"] for i in plan["interaction"]} == {"read", "search-type"}
    params = {p["name"]: p for p in plan["searchParam"]}
    assert set(params) == {
        "_id",
        "title",
        "name",
        "status",
        "topic",
        "municipality",
        "jurisdiction",
    }
    assert params["municipality"]["definition"] == SEARCH_PARAM_PD_MUNICIPALITY
    assert params["title"]["type"] == "string"
    assert params["status"]["type"] == "token"
    assert "worry-anxiety--3901" in plan["documentation"]
    assert "HealthcareService" in resources

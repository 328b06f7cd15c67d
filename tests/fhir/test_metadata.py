"""GET /fhir/metadata: an R4 CapabilityStatement describing what the server offers."""

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from samhandling.fhir.mapping import SEARCH_PARAM_MUNICIPALITY

pytestmark = pytest.mark.django_db


def test_metadata_is_an_r4_capability_statement_that_parses(client):
    response = client.get("/fhir/metadata")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    assert statement.kind == "instance"
    assert statement.format == ["json"]


def test_metadata_lists_healthcareservice_with_its_search_parameters(client):
    statement = client.get("/fhir/metadata").json()

    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    service = resources["HealthcareService"]
    assert {i["code"] for i in service["interaction"]} == {"read", "search-type"}
    params = {p["name"]: p for p in service["searchParam"]}
    assert set(params) == {"municipality", "service-category", "name", "active", "_id"}
    assert params["municipality"]["definition"] == SEARCH_PARAM_MUNICIPALITY
    assert params["municipality"]["type"] == "token"
    assert params["name"]["type"] == "string"
    assert [i["code"] for i in resources["Organization"]["interaction"]] == ["read"]


def test_metadata_urls_are_absolute_for_this_server(client):
    statement = client.get("/fhir/metadata").json()

    assert statement["implementation"]["url"] == "http://testserver/fhir/"
    assert statement["url"] == "http://testserver/fhir/metadata"


def test_metadata_refuses_post_with_an_operation_outcome(client):
    response = client.post("/fhir/metadata", {})

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    OperationOutcome.model_validate(response.json())


def test_metadata_in_xml_is_not_acceptable(client):
    response = client.get("/fhir/metadata", {"_format": "xml"})

    assert response.status_code == 406
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "not-supported"


def test_metadata_accepts_format_json(client):
    response = client.get("/fhir/metadata", {"_format": "application/fhir+json"})

    assert response.status_code == 200


def test_an_unknown_fhir_path_is_a_404_operation_outcome(client):
    response = client.get("/fhir/Patient/123")

    assert response.status_code == 404
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "not-found"

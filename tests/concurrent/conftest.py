"""Tests of simultaneous requests: real threads, each with its own database connection.

They need transactions that really commit, so pytest-django empties the tables after each.
They run in their own pass (see scripts/test), after the rest, so no other test loses the
reference data, and reload it themselves when an earlier one emptied it.
"""

import io

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    from samhandling.core.models import Municipality, OrganisationUnit, UnitKind
    from samhandling.directory.models import Need

    if not Municipality.objects.filter(number="3901").exists():
        call_command("import_municipalities", stdout=io.StringIO())
    if not Need.objects.exists():
        call_command("import_needs", stdout=io.StringIO())
    if not OrganisationUnit.objects.filter(kind=UnitKind.PARTNERSHIP).exists():
        call_command("import_health_trusts", stdout=io.StringIO())

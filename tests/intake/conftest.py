"""Fixtures for the intake tests: a program with its intake team, and a GP."""

import pytest

from samhandling.core.models import OrganisationUnit, Role
from samhandling.intake.models import Program
from tests.conftest import make_user


@pytest.fixture
def program(imported) -> Program:
    program = Program.objects.create(
        code="bup-vestfold",
        name="BUP Vestfold",
        unit=OrganisationUnit.objects.get(code="siv-bup-vestfold"),
    )
    program.municipalities.set(["3901", "3903", "3905", "3907", "3909", "3911"])
    return program


@pytest.fixture
def gp(roles):
    return make_user("gp", Role.REFERRER)


@pytest.fixture
def intake_member(roles, program):
    return make_user("intake-member", Role.INTAKE, program.unit)


@pytest.fixture
def colleague(roles, program):
    return make_user("intake-colleague", Role.INTAKE, program.unit)


@pytest.fixture
def other_team(roles, imported):
    """On an intake team, but of another unit (DPS Vestfold Nord)."""
    return make_user(
        "dps-intake", Role.INTAKE, OrganisationUnit.objects.get(code="siv-dps-vestfold-nord")
    )

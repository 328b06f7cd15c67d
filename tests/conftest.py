"""Shared fixtures: reference data and a fixed cast of users, one per role."""

import pytest
from django.core.management import call_command
from django.utils import translation

from samhandling.core.models import OrganisationUnit, Role, UnitKind, User
from samhandling.core.services import roles_setup, user_assign_role

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the packaged reference data once per test database."""
    with django_db_blocker.unblock():
        call_command("load_reference", verbosity=0)


@pytest.fixture(autouse=True)
def english_outside_requests():
    """Service-layer messages in English; requests still pick their language (bokmål default)."""
    with translation.override("en"):
        yield


@pytest.fixture
def roles(db):
    roles_setup()


@pytest.fixture
def horten_unit(db) -> OrganisationUnit:
    unit, _ = OrganisationUnit.objects.get_or_create(
        code="horten-kommune", defaults={"name": "Horten kommune", "kind": UnitKind.MUNICIPALITY}
    )
    unit.municipalities.add("3901")
    return unit


@pytest.fixture
def larvik_unit(db) -> OrganisationUnit:
    unit, _ = OrganisationUnit.objects.get_or_create(
        code="larvik-kommune", defaults={"name": "Larvik kommune", "kind": UnitKind.MUNICIPALITY}
    )
    unit.municipalities.add("3909")
    return unit


def make_user(username: str, role: str, *units: OrganisationUnit) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.units.set(units)
    user_assign_role(user=user, role=role)
    return user


@pytest.fixture
def horten_clinician(roles, horten_unit) -> User:
    return make_user("horten-clinician", Role.CLINICIAN, horten_unit)


@pytest.fixture
def larvik_clinician(roles, larvik_unit) -> User:
    return make_user("larvik-clinician", Role.CLINICIAN, larvik_unit)


@pytest.fixture
def editor(roles) -> User:
    return make_user("editor", Role.EDITOR)


@pytest.fixture
def referrer(roles) -> User:
    return make_user("referrer", Role.REFERRER)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache (cached option lists, rate-limit counters, …)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

"""Shared fixtures: reference data and a fixed cast of users, one per role."""

import pytest
from django.core.management import call_command
from django.utils import translation

from samhandling.core.models import OrganisationUnit, Role, UnitKind, User
from samhandling.core.services import roles_setup, user_assign_role
from samhandling.directory.services.demo import demo_load
from samhandling.intake.models import Program
from samhandling.pathways.models import Pathway, ResponsibleEditor
from samhandling.pathways.services.content import pathways_import

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


# --- care pathways (used by tests/pathways and tests/fhir) ---------------------------------


@pytest.fixture
def imported(db, roles) -> dict[str, Pathway]:
    """The Vestfold demo services and every packaged pathway and adaptation, published."""
    demo_load()
    pathways_import()
    return {p.slug: p for p in Pathway.objects.all()}


@pytest.fixture
def vestfold(db) -> OrganisationUnit:
    return OrganisationUnit.objects.get(code="helsefellesskap-vestfold")


@pytest.fixture
def vestfold_editor(roles, vestfold):
    """Responsible editor of Helsefellesskapet Vestfold (publishes its adaptations)."""
    user = make_user("vestfold-editor", Role.EDITOR, vestfold)
    ResponsibleEditor.objects.create(user=user, partnership=vestfold)
    return user


@pytest.fixture
def base_editor(roles):
    """Responsible editor of the national base versions."""
    user = make_user("base-editor", Role.EDITOR)
    ResponsibleEditor.objects.create(user=user, partnership=None)
    return user


@pytest.fixture
def plain_editor(roles, vestfold):
    """An editor in Vestfold who drafts and sends to review but does not publish."""
    return make_user("plain-editor", Role.EDITOR, vestfold)


# --- intake (used by tests/intake and tests/concurrent) ------------------------------------


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


def reference_data_reload() -> None:
    """Municipalities, needs and helsefellesskap units, again if a flush removed them.

    The session fixture loads them once, but every transactional test (live servers,
    threads) empties the tables when it ends.
    """
    import io

    from samhandling.core.models import Municipality
    from samhandling.directory.models import Need

    if not Municipality.objects.filter(number="3901").exists():
        call_command("import_municipalities", stdout=io.StringIO())
    if not Need.objects.exists():
        call_command("import_needs", stdout=io.StringIO())
    if not OrganisationUnit.objects.filter(kind=UnitKind.PARTNERSHIP).exists():
        call_command("import_health_trusts", stdout=io.StringIO())

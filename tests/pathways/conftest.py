"""Fixtures for the care-pathway tests: the packaged content and editors of each kind."""

import pytest

from samhandling.core.models import OrganisationUnit, Role
from samhandling.directory.services.demo import demo_load
from samhandling.pathways.models import Pathway, ResponsibleEditor
from samhandling.pathways.services.content import pathways_import
from tests.conftest import make_user


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

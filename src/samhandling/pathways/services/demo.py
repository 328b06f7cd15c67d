"""Demo editorship: the demo editor answers for the base text and for Vestfold's pathways."""

import json
from pathlib import Path

from django.db import transaction

from samhandling.core.models import OrganisationUnit, User
from samhandling.pathways.models import ResponsibleEditor

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "editors.json"


@transaction.atomic
def demo_editors_load(*, path: Path = DEMO_FILE) -> int:
    """Make the demo users responsible editors as the file says; returns how many were new.

    Users or units that are missing are skipped (the demo users are optional).
    """
    created = 0
    for entry in json.loads(path.read_text(encoding="utf-8"))["responsible"]:
        user = User.objects.filter(username=entry["username"]).first()
        partnership = None
        if entry["partnership"]:
            partnership = OrganisationUnit.objects.filter(code=entry["partnership"]).first()
            if partnership is None:
                continue
        if user is None:
            continue
        scope = f"partnership:{partnership.code}" if partnership else "base"
        if not ResponsibleEditor.objects.filter(user=user, scope_key=scope).exists():
            ResponsibleEditor.objects.create(user=user, partnership=partnership)
            created += 1
    return created

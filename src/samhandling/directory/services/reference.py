"""Import of the directory's reference data (the needs list)."""

import csv
from pathlib import Path

from django.db import transaction

from samhandling.core.services import ImportResult, ReferenceDataError
from samhandling.directory.models import Need

DATA_FILES = Path(__file__).resolve().parent.parent / "data"


@transaction.atomic
def needs_import(*, path: Path = DATA_FILES / "needs.csv") -> ImportResult:
    """Create or update the needs from the packaged file. Safe to run again."""
    if not path.exists():
        raise ReferenceDataError(f"{path.name}: file not found")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    created = updated = 0
    for line, row in enumerate(rows, start=2):
        try:
            values = {
                "name_nb": row["name_nb"].strip(),
                "name_nn": row["name_nn"].strip(),
                "name_en": row["name_en"].strip(),
                "sort_order": int(row["sort_order"]),
            }
            code = row["code"].strip()
        except (KeyError, ValueError, AttributeError):
            raise ReferenceDataError(f"{path.name}, line {line}: malformed row") from None
        if not code:
            raise ReferenceDataError(f"{path.name}, line {line}: empty code")
        _, was_created = Need.objects.update_or_create(code=code, defaults=values)
        created += was_created
        updated += not was_created
    return ImportResult(created, updated)

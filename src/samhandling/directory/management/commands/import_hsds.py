from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from samhandling.directory.services.hsds import MAX_BYTES, HsdsError, hsds_import, hsds_parse


class Command(BaseCommand):
    help = (
        "Import an Open Referral HSDS 3.0 JSON document: create or update services by id and "
        "units by code. The whole file is checked first; a bad file changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The HSDS JSON document (as written by export_hsds).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            with path.open("rb") as handle:
                # One byte over the limit is enough for hsds_parse to refuse it.
                data = handle.read(MAX_BYTES + 1)
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from error
        try:
            result = hsds_import(document=hsds_parse(data=data))
        except HsdsError as error:
            raise CommandError(f"{path.name}: {error}") from error
        self.stdout.write(
            f"Services: {result.services_created} created, {result.services_updated} updated. "
            f"Units: {result.units_created} created, {result.units_updated} updated."
        )

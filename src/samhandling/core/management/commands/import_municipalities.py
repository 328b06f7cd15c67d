from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from samhandling.core.services import ReferenceDataError, municipalities_import


class Command(BaseCommand):
    help = (
        "Import the 357 municipalities (2024 structure) from the packaged file. Safe to run again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--file", type=Path, help="Read this CSV instead of the packaged one.")

    def handle(self, *args: Any, **options: Any) -> None:
        kwargs = {"path": options["file"]} if options["file"] else {}
        try:
            result = municipalities_import(**kwargs)
        except ReferenceDataError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{result.created} created, {result.updated} updated")

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from samhandling.core.services import ReferenceDataError, health_trusts_import


class Command(BaseCommand):
    help = (
        "Import catchment areas (health trusts) and a helsefellesskap unit per area. "
        "Safe to run again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--file", type=Path, help="Read this CSV instead of the packaged one.")

    def handle(self, *args: Any, **options: Any) -> None:
        kwargs = {"path": options["file"]} if options["file"] else {}
        try:
            result = health_trusts_import(**kwargs)
        except ReferenceDataError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{result.created} created, {result.updated} updated")

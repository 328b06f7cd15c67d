from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from samhandling.pathways.services.content import DATA_DIR, ContentError, pathways_import


class Command(BaseCommand):
    help = (
        "Load the packaged care pathways and local adaptations as published versions. Safe "
        "to run again: pathways that already have versions are left as they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--directory",
            type=Path,
            default=DATA_DIR,
            help="A folder with pathways/*.json and adaptations/*.json (default: packaged).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = pathways_import(directory=options["directory"])
        except ContentError as error:
            problems = "\n  ".join(error.problems)
            raise CommandError(f"Nothing was imported:\n  {problems}") from error
        self.stdout.write(
            f"Pathways: {result.pathways_created} created, "
            f"{result.pathways_existing} already there (left unchanged)."
        )
        self.stdout.write(
            f"Local adaptations: {result.adaptations_created} created, "
            f"{result.adaptations_existing} already there (left unchanged)."
        )

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from samhandling.core.services import ReferenceDataError
from samhandling.directory.services.reference import needs_import


class Command(BaseCommand):
    help = (
        "Import the list of needs/topics services serve from the packaged file. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = needs_import()
        except ReferenceDataError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{result.created} created, {result.updated} updated")

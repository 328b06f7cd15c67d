from typing import Any

from django.core.management.base import BaseCommand, CommandError

from samhandling.core.services import ReferenceDataError, reference_data_load


class Command(BaseCommand):
    help = "Load roles, municipalities, population and health trusts. Safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            results = reference_data_load()
        except ReferenceDataError as error:
            raise CommandError(str(error)) from error
        for name, result in results.items():
            self.stdout.write(f"{name}: {result.created} created, {result.updated} updated")

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from samhandling.core.services import ReferenceDataError, reference_data_load
from samhandling.directory.services.demo import DemoDataError, demo_load, demo_users_load
from samhandling.pathways.services.content import ContentError, pathways_import
from samhandling.pathways.services.demo import demo_editors_load


class Command(BaseCommand):
    help = (
        "Load the reference data, the fictional Vestfold demo services and the demo users. "
        "Safe to run again: creates what is missing and never changes what exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-users",
            action="store_true",
            help="Load the demo services only, not the demo users (whose passwords are public).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_users"] and not (settings.SAMHANDLING_DEMO or settings.DEBUG):
            raise CommandError(
                "Demo users have publicly known passwords, so they are only loaded when "
                "SAMHANDLING_DEMO=true (`samhandling demo` sets it). Use --no-users to load "
                "the demo services alone. Never load demo users on a production server."
            )
        try:
            reference_data_load()
            result = demo_load()
            pathways = pathways_import()
            users = None if options["no_users"] else demo_users_load()
            if users is not None:
                demo_editors_load()
        except (ReferenceDataError, DemoDataError, ContentError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Demo units: {result.units_created} created, {result.units_existing} already there."
        )
        self.stdout.write(
            f"Demo services: {result.services_created} created, "
            f"{result.services_existing} already there (left unchanged)."
        )
        self.stdout.write(
            f"Care pathways: {pathways.pathways_created} created, "
            f"{pathways.pathways_existing} already there (left unchanged); local adaptations: "
            f"{pathways.adaptations_created} created."
        )
        if users is not None:
            self.stdout.write(
                f"Demo users: {users.created} created, {users.existing} already there."
            )

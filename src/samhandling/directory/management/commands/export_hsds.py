import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from samhandling.directory.services.hsds import hsds_export


class Command(BaseCommand):
    help = "Export every service and its units as one Open Referral HSDS 3.0 JSON document."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output", "-o", metavar="FILE", help="Write to FILE instead of standard output."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = json.dumps(hsds_export(), ensure_ascii=False, indent=2) + "\n"
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        try:
            Path(options["output"]).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{options['output']}: {error.strerror}") from error

"""The `samhandling` command: Django's manage.py for this platform."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samhandling.config.settings")
    if len(sys.argv) > 1 and sys.argv[1] == "demo":
        # The demo serves plain HTTP on this machine; production settings expect TLS.
        os.environ.setdefault("SAMHANDLING_HTTPS", "false")
        os.environ.setdefault("SAMHANDLING_DEMO", "true")
        os.environ.setdefault("SAMHANDLING_MANIFEST_STATIC", "false")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

import errno
import socket
import warnings
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from samhandling.directory.services.demo import demo_users_password_kept, demo_users_read


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, load the Vestfold demo data and users, and serve the platform "
        "(HTTP and websockets) on this machine."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (8000).")
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (127.0.0.1).")
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare the database, then stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port, serve = options["host"], options["port"], not options["no_serve"]
        if serve:
            # Fail before the slow steps, with advice, rather than with uvicorn's errno.
            _ensure_port_free(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        if "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]:
            # Hashed static names need their manifest; building it takes a second or two.
            call_command("collectstatic", interactive=False, verbosity=0)
        call_command("load_demo", stdout=self.stdout, stderr=self.stderr)
        self._print_users()
        if not serve:
            return
        url = f"http://{_url_host(host)}:{port}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Samhandling demo: {url}"))
        self.stdout.write("Stop with Ctrl+C.")
        self.stdout.flush()

        import uvicorn

        # WhiteNoise hands Django a synchronous file iterator, and Django's ASGI handler warns
        # about it for every static file. Harmless for the demo; keep its console readable.
        warnings.filterwarnings(
            "ignore", message="StreamingHttpResponse must consume synchronous iterators"
        )

        uvicorn.run(
            "samhandling.config.asgi:application",
            host=host,
            port=port,
            lifespan="off",
            log_level="warning",
        )

    def _print_users(self) -> None:
        users = demo_users_read()
        kept = demo_users_password_kept(users=users)
        rows = [("Username", "Role", "Password")]
        for user in users:
            password = user.password if kept[user.username] else "(changed)"
            rows.append((user.username, user.role, password))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write("")
        self.stdout.write("Demo users (fictional; log in at /login/):")
        for index, row in enumerate(rows):
            cells = (cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
            if index == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _ensure_port_free(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise CommandError(f"Port {port} is not a valid port number (1–65535).")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise CommandError(f"Cannot listen on {host!r}: not a known address.") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # The server sets SO_REUSEADDR too; without it a recently closed port looks busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"Port {port} on {host} is already in use by another program. "
                    f"Stop that program, or pick another port, e.g. "
                    f"`samhandling demo --port {port + 1 if port < 65535 else 8001}`."
                ) from None
            raise CommandError(
                f"Cannot listen on {host} port {port} ({error.strerror}). "
                "Pick another port with --port, e.g. `samhandling demo --port 8001`."
            ) from None

"""Search latency under load: the real ASGI server, 50 concurrent clients, SQLite and PostgreSQL.

    .venv/bin/python bench/search_latency.py --database both

For each database it prepares a throwaway database with N generated services (once; reused
while the count matches), starts uvicorn on 127.0.0.1 with 1 and with 2 workers, warms up,
then sends a fixed, seeded mix of searches from C concurrent clients, bounded in count and
time, and prints p50/p95/p99/max latency, requests/s and errors per kind of request. It also
times `search_page` alone in-process, to separate the database cost from the HTTP cost.
Everything it starts it stops again, also on Ctrl-C. Traffic goes to 127.0.0.1 only.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
MEASURED = [
    ROOT / "src/samhandling/directory/services/search.py",
    ROOT / "src/samhandling/directory/services/opening.py",
    ROOT / "src/samhandling/directory/api.py",
    ROOT / "src/samhandling/directory/views_search.py",
]
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/sh_bench"
NEEDS = [
    "anxiety",
    "low-mood",
    "substance-use",
    "eating",
    "school-work",
    "violence-abuse",
    "sexual-health",
    "relationships-family",
    "self-harm",
    "sleep",
    "attention",
    "trauma",
    "psychosis",
    "loneliness",
]
LEVELS = ["universal", "early", "targeted", "specialist"]
CHANNELS = ["drop_in", "phone", "sms", "chat", "web_form"]
VESTFOLD = ["3901", "3903", "3905", "3907", "3909", "3911"]
# Kind of request → share of the mix. The API kinds are what apps and the map call; the
# HTML kinds are people using the search page (full page, and the HTMX fragment).
MIX = {
    "api municipality+age+need": 0.30,
    "api +no_referral": 0.15,
    "api +open_now": 0.12,
    "api channel": 0.08,
    "api level": 0.08,
    "html page": 0.17,
    "html fragment (htmx)": 0.10,
}
IN_PROCESS_SCRIPT = """
import datetime as dt, json, os, statistics, sys, time
from zoneinfo import ZoneInfo
import django
django.setup()
from django.db import connection, reset_queries
from samhandling.directory.services.search import SearchFilters, search_page
cases = json.loads(sys.argv[1])
at = dt.datetime(2026, 11, 23, 14, 30, tzinfo=ZoneInfo("Europe/Oslo"))
def run(query):
    filters = SearchFilters.from_query(query)
    found = search_page(filters=filters, at=at)
    return found.total, len(found.services)
for _kind, query in cases[:20]:
    run(query)
times, totals = {}, {}
for kind, query in cases:
    started = time.perf_counter()
    total, shown = run(query)
    times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    totals.setdefault(kind, []).append(total)
print(json.dumps({"times": times, "totals": totals}))
"""


# --- the request mix --------------------------------------------------------------------


def _municipality(rng: random.Random, numbers: list[str]) -> str:
    # A third of the searches come from the demo county, the rest from anywhere.
    return rng.choice(VESTFOLD) if rng.random() < 0.33 else rng.choice(numbers)


def request_mix(*, count: int, seed: int, numbers: list[str]) -> list[tuple[str, dict]]:
    """`count` (kind, query) pairs, deterministic for a seed."""
    rng = random.Random(seed)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    out: list[tuple[str, dict]] = []
    for kind in kinds:
        base = {
            "municipality": _municipality(rng, numbers),
            "age": rng.randint(10, 25),
            "need": rng.choice(NEEDS),
        }
        if kind == "api +no_referral":
            base["no_referral"] = "true"
        elif kind == "api +open_now":
            base["open_now"] = "true"
            if rng.random() < 0.5:
                base["no_referral"] = "true"
        elif kind == "api channel":
            base = {"municipality": base["municipality"], "channel": rng.choice(CHANNELS)}
        elif kind == "api level":
            base = {"municipality": base["municipality"], "level": rng.choice(LEVELS)}
        elif kind.startswith("html") and rng.random() < 0.5:
            base["no_referral"] = "on"
        out.append((kind, base))
    return out


def _path(kind: str, query: dict) -> str:
    prefix = "/services/" if kind.startswith("html") else "/api/v1/services"
    return f"{prefix}?{urlencode(query)}"


def _form_query(query: dict) -> dict:
    """The same filters as the search form sends them (on/off instead of true/false)."""
    return {k: ("on" if v == "true" else v) for k, v in query.items()}


# --- databases --------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    env: dict[str, str]
    data_dir: Path


def _run(cmd: list[str], env: dict[str, str], quiet: bool = True) -> str:
    result = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd)[:200]}")
    if not quiet:
        print(result.stdout.strip())
    return result.stdout


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMHANDLING_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "samhandling.config.settings",
            "SAMHANDLING_HTTPS": "false",
            "SAMHANDLING_DATA_DIR": str(data_dir),
            "SAMHANDLING_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT / "src"),
        }
    )
    return env


def _service_count(env: dict[str, str]) -> int:
    script = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "from samhandling.directory.models import Service\n"
        "try:\n    print(Service.objects.count())\n"
        "except Exception:\n    print(-1)\n"
    )
    out = _run([sys.executable, "-c", script], env)
    return int(out.strip().splitlines()[-1])


def _pg_database_ensure(url: str, recreate: bool) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and recreate:
            conn.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def target_prepare(*, name: str, args: argparse.Namespace) -> Target:
    """A migrated database with reference data, `args.services` services and static files."""
    data_dir = Path(args.data_root) / name
    if args.regenerate and name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"samhandling.sqlite3{suffix}").unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = _base_env(data_dir)
    if name == "postgres":
        _pg_database_ensure(args.pg_url, recreate=args.regenerate)
        env["DATABASE_URL"] = args.pg_url
    env["SAMHANDLING_DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    have = _service_count(env)
    # Always: a database kept from an earlier run may lack newer tables.
    _run([str(VENV_BIN / "samhandling"), "migrate", "-v0"], env)
    if have != args.services:
        print(f"[{name}] preparing: {have} services found, {args.services} wanted")
        _run([str(VENV_BIN / "samhandling"), "load_reference", "-v0"], env)
        _run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate_services.py"),
                "--count",
                str(args.services),
                "--reset",
            ],
            env,
            quiet=False,
        )
    # Always: templates may reference static files added since the last run, and the
    # manifest storage answers 500 for a file it does not know.
    _run([str(VENV_BIN / "samhandling"), "collectstatic", "--noinput", "-v0"], env)
    return Target(name=name, env=env, data_dir=data_dir)


def municipality_numbers(target: Target) -> list[str]:
    script = (
        "import django; django.setup()\n"
        "from samhandling.core.models import Municipality\n"
        "print(' '.join(Municipality.objects.order_by('number').values_list('number', flat=True)))"
    )
    return _run([sys.executable, "-c", script], target.env).split()


# --- the server -------------------------------------------------------------------------


class Server:
    """uvicorn in its own process group, so every worker it forks is stopped with it."""

    def __init__(self, target: Target, *, port: int, workers: int) -> None:
        self.target, self.port, self.workers = target, port, workers
        self.process: subprocess.Popen | None = None
        self.log = target.data_dir / f"uvicorn-{workers}w.log"

    def start(self) -> None:
        cmd = [
            str(VENV_BIN / "uvicorn"),
            "samhandling.config.asgi:application",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                cmd,
                env=self.target.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise SystemExit(f"uvicorn exited early; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise SystemExit(f"uvicorn did not answer in {timeout:.0f} s; see {self.log}")

    def cpu_seconds(self) -> float:
        """User+system CPU of every process in the server's process group."""
        if not self.process:
            return 0.0
        group, total = self.process.pid, 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group:  # field 5 of stat: the process group id
                total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --- the load ---------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool


@dataclass
class RunResult:
    database: str
    workers: int
    think: float
    wall: float
    samples: list[Sample] = field(default_factory=list)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    errors_seen: list[str] = field(default_factory=list)


async def _load(
    *,
    port: int,
    requests: list[tuple[str, dict]],
    clients: int,
    duration: float,
    think: float,
    seed: int,
) -> tuple[list[Sample], float, list[str]]:
    import httpx

    queue = list(reversed(requests))
    samples: list[Sample] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    deadline = started + duration

    async def client(number: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(seed * 1000 + number)
        if think:
            # Arrive spread out, as people do, not all 50 in the same millisecond.
            await asyncio.sleep(rng.uniform(0, 2 * think))
        while queue and time.perf_counter() < deadline:
            kind, query = queue.pop()
            headers = {"Accept-Language": "nb"}
            if kind.startswith("html"):
                query = _form_query(query)
                if "fragment" in kind:
                    headers["HX-Request"] = "true"
            t0 = time.perf_counter()
            try:
                response = await http.get(_path(kind, query), headers=headers)
                ok = response.status_code == 200
                if not ok and len(errors) < 5:
                    errors.append(f"{kind}: HTTP {response.status_code} {_path(kind, query)}")
            except httpx.HTTPError as error:
                ok = False
                if len(errors) < 5:
                    errors.append(f"{kind}: {type(error).__name__}")
            samples.append(Sample(kind, (time.perf_counter() - t0) * 1000, ok))
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))

    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", limits=limits, timeout=30
    ) as http:
        await asyncio.gather(*(client(n, http) for n in range(clients)))
    return samples, time.perf_counter() - started, errors


def run_load(
    *,
    target: Target,
    workers: int,
    port: int,
    mix: list[tuple[str, dict]],
    args: argparse.Namespace,
    think: float,
) -> RunResult:
    server = Server(target, port=port, workers=workers)
    try:
        server.start()
        server.wait_ready()
        warm = mix[: args.warmup]
        asyncio.run(
            _load(
                port=port,
                requests=warm,
                clients=min(args.clients, 10),
                duration=60,
                think=0,
                seed=args.seed,
            )
        )
        cpu_before, client_before = server.cpu_seconds(), sum(os.times()[:2])
        samples, wall, errors = asyncio.run(
            _load(
                port=port,
                requests=mix[args.warmup : args.warmup + args.requests],
                clients=args.clients,
                duration=args.duration,
                think=think,
                seed=args.seed,
            )
        )
        result = RunResult(target.name, workers, think, wall, samples, errors_seen=errors)
        result.server_cpu = server.cpu_seconds() - cpu_before
        result.client_cpu = sum(os.times()[:2]) - client_before
        return result
    finally:
        server.stop()


# --- reporting --------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _row(label: str, samples: list[Sample], wall: float) -> str:
    ms = [s.ms for s in samples]
    errors = sum(1 for s in samples if not s.ok)
    return (
        f"| {label} | {len(samples)} | {_percentile(ms, 50):.0f} | {_percentile(ms, 95):.0f} "
        f"| {_percentile(ms, 99):.0f} | {max(ms):.0f} | {len(samples) / wall:.1f} | {errors} |"
    )


def report_run(result: RunResult) -> str:
    mode = "saturating (no think time)" if not result.think else f"think {result.think:g} s"
    lines = [
        f"### {result.database}, {result.workers} worker(s), {mode}",
        "",
        f"{len(result.samples)} requests in {result.wall:.1f} s; server CPU "
        f"{result.server_cpu:.1f} s, load-generator CPU {result.client_cpu:.1f} s.",
        "",
        "| kind | n | p50 ms | p95 ms | p99 ms | max ms | req/s | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in MIX:
        chosen = [s for s in result.samples if s.kind == kind]
        if chosen:
            lines.append(_row(kind, chosen, result.wall))
    lines.append(_row("**all**", result.samples, result.wall))
    if result.errors_seen:
        lines += ["", "First errors: " + "; ".join(result.errors_seen)]
    return "\n".join(lines)


def in_process(target: Target, mix: list[tuple[str, dict]], count: int) -> str:
    """`search_page` alone (total + first page with its card data), no HTTP."""
    cases = [(k, _form_query(q)) for k, q in mix[:count]]
    out = _run([sys.executable, "-c", IN_PROCESS_SCRIPT, json.dumps(cases)], target.env)
    data = json.loads(out.strip().splitlines()[-1])
    lines = [
        f"### {target.name}: `search_page` in-process (total + first 20 with card data)",
        "",
        "| filters | n | p50 ms | p99 ms | max ms | median matches |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    every: list[float] = []
    for kind, times in data["times"].items():
        every += times
        label = kind.replace("html page", "as html page").replace(" (htmx)", "")
        lines.append(
            f"| {label} | {len(times)} | {_percentile(times, 50):.1f} | "
            f"{_percentile(times, 99):.1f} | {max(times):.1f} | "
            f"{statistics.median(data['totals'][kind]):.0f} |"
        )
    lines.append(
        f"| **all** | {len(every)} | {_percentile(every, 50):.1f} | "
        f"{_percentile(every, 99):.1f} | {max(every):.1f} | |"
    )
    return "\n".join(lines)


def machine_summary(targets: list[Target]) -> str:
    import django

    mem = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    pg = "n/a"
    if any(t.name == "postgres" for t in targets):
        import psycopg

        with psycopg.connect(
            next(t for t in targets if t.name == "postgres").env["DATABASE_URL"]
        ) as c:
            pg = c.execute("SHOW server_version").fetchone()[0]
    return "\n".join(
        [
            f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
            f"- cores (nproc): {os.cpu_count()}; {platform.processor() or platform.machine()}",
            "- memory (free -h):",
            "```",
            mem.rstrip(),
            "```",
            f"- Python {platform.python_version()}, Django {django.get_version()}, "
            f"SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}",
            f"- load average before the run: {os.getloadavg()[0]:.2f} (other work on the machine "
            "competes for the same 2 cores)",
            "- code measured (sha1, first 10): "
            + ", ".join(
                f"{path.name} {hashlib.sha1(path.read_bytes()).hexdigest()[:10]}"  # noqa: S324
                for path in MEASURED
                if path.exists()
            ),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per run")
    parser.add_argument("--duration", type=float, default=90, help="max seconds per run")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts to try")
    parser.add_argument(
        "--think",
        default="0",
        help="mean think time per client in seconds, comma-separated (0 = saturating)",
    )
    parser.add_argument("--conn-max-age", type=int, default=0, help="SAMHANDLING_DB_CONN_MAX_AGE")
    parser.add_argument("--port", type=int, default=8410)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--in-process", type=int, default=400, help="searches timed in-process")
    parser.add_argument("--data-root", default=str(Path(tempfile.gettempdir()) / "bench-latency"))
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the databases")
    parser.add_argument("--markdown", help="also write the report to this file")
    args = parser.parse_args(argv)
    # A plain `kill` must still run the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    names = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    workers = [int(w) for w in args.workers.split(",")]
    thinks = [float(t) for t in args.think.split(",")]
    sections: list[str] = []
    targets = [target_prepare(name=name, args=args) for name in names]
    sections.append(machine_summary(targets))
    sections.append(
        f"{args.services} services, {args.clients} concurrent clients, up to {args.requests} "
        f"measured requests or {args.duration:g} s per run after {args.warmup} warm-up "
        f"requests; CONN_MAX_AGE={args.conn_max_age}."
    )
    for target in targets:
        numbers = municipality_numbers(target)
        mix = request_mix(count=args.warmup + args.requests, seed=args.seed, numbers=numbers)
        sections.append(in_process(target, mix, args.in_process))
        print(sections[-1] + "\n", flush=True)
        for think in thinks:
            for count in workers:
                result = run_load(
                    target=target, workers=count, port=args.port, mix=mix, args=args, think=think
                )
                sections.append(report_run(result))
                print(sections[-1] + "\n", flush=True)
    if args.markdown:
        Path(args.markdown).write_text("\n\n".join(sections) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

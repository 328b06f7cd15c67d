import datetime as dt
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest

from samhandling.core.models import OrganisationUnit, Role, User
from samhandling.directory.models import (
    Coverage,
    Level,
    OpeningException,
    OpeningHours,
    Service,
    ServiceVersion,
)
from samhandling.directory.services.demo import (
    DEMO_DIR,
    FAKE_PHONE,
    USERS_FILE,
    DemoDataError,
    demo_load,
    demo_service_code,
    demo_users_load,
    demo_users_password_kept,
    demo_users_read,
)
from samhandling.directory.services.editing import service_snapshot
from tests.directory.factories import ServiceFactory

pytestmark = pytest.mark.django_db

VESTFOLD = ["3901", "3903", "3905", "3907", "3909", "3911"]


@pytest.fixture
def demo_mode(settings):
    settings.SAMHANDLING_DEMO = True


@pytest.fixture
def loaded(db):
    """The demo services; reference data is already loaded by conftest."""
    demo_load()


def _state() -> dict:
    """Everything the demo load writes, to compare two loads."""
    services = Service.objects.filter(is_demo=True).order_by("code")
    return {
        "units": sorted(OrganisationUnit.objects.values_list("code", "name", "kind", "parent_id")),
        "services": {
            str(s.code): {**service_snapshot(service=s), "updated_at": s.updated_at}
            for s in services
        },
        "hours": OpeningHours.objects.count(),
        "exceptions": OpeningException.objects.count(),
        "versions": sorted(ServiceVersion.objects.values_list("service_id", "number")),
        "users": sorted(User.objects.values_list("username", "password", "last_login")),
    }


def _demo_files(tmp_path):
    """A copy of the packaged demo files that a test may break."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, target)
    return target


def _first_service(directory):
    path = directory / "vestfold.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    return path, doc


def test_second_load_creates_nothing_and_changes_nothing(demo_mode):
    call_command("load_demo", stdout=io.StringIO())
    before = _state()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert _state() == before
    assert "Demo services: 0 created, 50 already there" in out.getvalue()
    assert "Demo users: 0 created, 8 already there" in out.getvalue()
    assert len(before["services"]) == 50


def test_each_demo_service_gets_a_code_derived_from_its_key_and_a_first_version(loaded):
    service = Service.objects.get(code=demo_service_code("horten-helsestasjon-for-ungdom"))
    assert service.name_nb == "Helsestasjon for ungdom Horten"
    version = service.versions.get()
    assert (version.number, version.author) == (1, None)
    assert version.snapshot == service_snapshot(service=service)
    assert ServiceVersion.objects.filter(number=1).count() == Service.objects.count()


def test_a_users_edit_and_an_added_service_survive_a_second_load(loaded):
    service = Service.objects.get(code=demo_service_code("larvik-ungdomsarena"))
    service.name_nb = "Ungdomsarena Larvik sentrum"
    service.save()
    service.hours.all().delete()
    added = ServiceFactory(name_nb="Nytt lavterskeltilbud", unit=service.unit)
    result = demo_load()
    service.refresh_from_db()
    assert service.name_nb == "Ungdomsarena Larvik sentrum"
    assert not service.hours.exists()
    assert Service.objects.filter(pk=added.pk, name_nb="Nytt lavterskeltilbud").exists()
    assert (result.services_created, result.units_created) == (0, 0)


def test_a_missing_demo_service_is_created_again_and_the_others_are_left_alone(loaded):
    Service.objects.get(code=demo_service_code("faerder-ungdomsklubb-tjome")).delete()
    result = demo_load()
    assert (result.services_created, result.services_existing) == (1, 49)
    assert Service.objects.filter(code=demo_service_code("faerder-ungdomsklubb-tjome")).exists()


def test_every_role_has_exactly_one_demo_user_who_logs_in_with_the_printed_password(
    demo_mode, client
):
    out = io.StringIO()
    call_command("demo", no_serve=True, stdout=out)
    printed = dict(re.findall(r"^\s+(\S+)\s+\S+\s+(demo-\S+)$", out.getvalue(), re.MULTILINE))
    assert len(printed) == len(Role.values)
    for role in Role.values:
        user = User.objects.get(groups__name=role, username__in=list(printed))
        assert set(user.groups.values_list("name", flat=True)) == {role}
        # Axes needs the request to authenticate.
        assert client.login(
            request=HttpRequest(), username=user.username, password=printed[user.username]
        )
        client.logout()
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.filter(username__in=set(printed) - {"admin"}, is_staff=True).exists()


def test_demo_users_belong_to_their_units(loaded, demo_mode):
    demo_users_load()
    kliniker = User.objects.get(username="kliniker")
    assert list(kliniker.units.values_list("code", flat=True)) == ["horten-psykisk-helse-rus"]
    assert kliniker.units.get().parent.code == "horten-kommune"
    assert User.objects.get(username="inntak").units.get().name == "BUP Vestfold"
    assert User.objects.get(username="redaktor").units.get().code == "helsefellesskap-vestfold"
    assert not User.objects.get(username="ung").units.exists()


def _one_user_file(tmp_path) -> Path:
    doc = json.loads(USERS_FILE.read_text(encoding="utf-8"))
    doc["users"] = [u for u in doc["users"] if u["username"] == "kliniker"]
    path = tmp_path / "users.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_changed_password_is_never_reset_and_is_reported_as_changed(loaded, demo_mode, tmp_path):
    path = _one_user_file(tmp_path)
    demo_users_load(path=path)
    user = User.objects.get(username="kliniker")
    user.set_password("my-own-secret-2026")
    user.save()
    result = demo_users_load(path=path)
    user.refresh_from_db()
    assert (result.created, result.existing) == (0, 1)
    assert user.check_password("my-own-secret-2026")
    assert demo_users_password_kept(users=demo_users_read(path=path)) == {"kliniker": False}


def test_demo_users_need_their_units_to_exist(demo_mode, tmp_path):
    with pytest.raises(DemoDataError, match="unknown units horten-psykisk-helse-rus"):
        demo_users_load(path=_one_user_file(tmp_path))
    assert not User.objects.filter(username="kliniker").exists()


def test_demo_users_are_refused_outside_demo_mode_and_nothing_is_created(settings):
    settings.SAMHANDLING_DEMO = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="SAMHANDLING_DEMO"):
        call_command("load_demo", stdout=io.StringIO())
    assert not User.objects.filter(username="admin").exists()
    assert not Service.objects.filter(is_demo=True).exists()


def test_load_demo_without_users_loads_the_services_only(settings):
    settings.SAMHANDLING_DEMO = False
    call_command("load_demo", no_users=True, stdout=io.StringIO())
    assert Service.objects.filter(is_demo=True).count() == 50
    assert not User.objects.filter(username="admin").exists()


def test_every_demo_service_has_fictional_contact_details(loaded):
    services = Service.objects.filter(is_demo=True)
    assert services.count() == Service.objects.count()
    for service in services:
        for number in (service.phone, service.sms_number):
            assert not number or FAKE_PHONE.match(number), service.name_nb
        assert not service.email or service.email.endswith(".example.no"), service.name_nb
        for url in (service.website, service.chat_url):
            assert not url or re.match(r"^https://([a-z0-9-]+\.)*example\.no(/|$)", url), url
        assert service.phone or service.email or service.chat_url


def test_every_vestfold_municipality_has_services_at_all_four_levels(loaded):
    national = set(
        Service.objects.filter(coverage=Coverage.NATIONAL).values_list("level", flat=True)
    )
    for number in VESTFOLD:
        local = Service.objects.filter(municipalities=number)
        levels = set(local.values_list("level", flat=True)) | national
        assert levels == set(Level.values), number
        own = set(local.filter(coverage=Coverage.MUNICIPAL).values_list("level", flat=True))
        assert own == {Level.UNIVERSAL, Level.EARLY, Level.TARGETED}, number


def test_regional_specialist_services_cover_all_six_municipalities(loaded):
    specialist = Service.objects.filter(coverage=Coverage.REGIONAL, level=Level.SPECIALIST)
    covered = set(specialist.values_list("municipalities__number", flat=True))
    assert covered == set(VESTFOLD)
    bup = specialist.get(unit__code="siv-bup-vestfold")
    assert bup.referral_required
    assert set(bup.referrers) == {"gp", "child_welfare", "municipal", "specialist"}
    assert bup.unit.parent.name == "Sykehuset i Vestfold HF"
    assert bup.unit.parent.parent.code == "helsefellesskap-vestfold"


def test_demo_data_is_complete_in_both_written_languages(loaded):
    for service in Service.objects.filter(is_demo=True):
        for field in ("name", "description", "how_to"):
            assert getattr(service, f"{field}_nb"), (service.name_nb, field)
            assert getattr(service, f"{field}_nn"), (service.name_nb, field)
        assert service.needs.exists(), service.name_nb
        assert service.channels(), service.name_nb


def test_demo_has_an_always_open_service_exceptions_and_old_verifications(loaded):
    demo = Service.objects.filter(is_demo=True)
    assert demo.filter(always_open=True, open_on_holidays=True).exists()
    closed = OpeningException.objects.filter(closed=True)
    assert {dt.date(2026, 12, 24), dt.date(2026, 12, 31)} <= set(
        closed.values_list("date", flat=True)
    )
    assert OpeningException.objects.filter(closed=False).exists()
    assert OpeningHours.objects.filter(closes__gt=dt.time(19)).exists()
    assert OpeningHours.objects.filter(weekday__in=[5, 6]).exists()
    old = demo.filter(last_verified__lt=dt.date(2025, 11, 23)).count()
    assert 3 <= old < demo.count() // 2


def test_national_services_include_the_chat_for_people_worried_about_sexual_thoughts(loaded):
    chat = Service.objects.get(
        coverage=Coverage.NATIONAL, needs__code="sexual-offending", offers_chat=True
    )
    assert not chat.referral_required
    assert not chat.municipalities.exists()
    treatment = Service.objects.get(code=demo_service_code("nasjonal-veien-videre-behandling"))
    assert {"self", "gp", "police", "child_welfare", "prison", "lawyer"} <= set(treatment.referrers)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(phone="+47 22 00 00 00"), "fictional number"),
        (lambda s: s.update(email="post@horten.kommune.no"), "fictional example.no"),
        (lambda s: s.update(website="http://www.example.no"), "https://"),
        (lambda s: s.update(needs=["anxiety", "no-such-need"]), "unknown needs no-such-need"),
        (lambda s: s.update(level="top"), "level 'top'"),
        (lambda s: s.update(unit="no-such-unit"), "unit 'no-such-unit'"),
        (lambda s: s.update(municipalities=["0000"]), "unknown municipalities 0000"),
        (lambda s: s.update(age_min=30, age_max=20), "age_min ≤ age_max"),
        (
            lambda s: s.update(hours=[{"days": ["mon"], "opens": "18:00", "closes": "09:00"}]),
            "open before it closes",
        ),
        (lambda s: s.update(exceptions=[{"date": "2026-02-30", "closed": True}]), "2026-02-30"),
        (lambda s: s.update(latitude=95.0), "outside ±90"),
        (lambda s: s.update(colour="red"), "unknown fields colour"),
        (lambda s: s.pop("name_nb"), "missing fields name_nb"),
        (lambda s: s.update(referral_required=True, referrers=["self"]), "who may refer"),
    ],
)
def test_a_malformed_service_is_refused_with_its_place_and_nothing_is_loaded(
    tmp_path, change, message
):
    directory = _demo_files(tmp_path)
    path, doc = _first_service(directory)
    change(doc["services"][0])
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DemoDataError) as error:
        demo_load(directory=directory)
    assert message in str(error.value)
    assert "vestfold.json: services[0]" in str(error.value) or "service " in str(error.value)
    assert not Service.objects.exists()
    assert not OrganisationUnit.objects.filter(code="sykehuset-i-vestfold").exists()


def test_broken_json_duplicate_keys_and_unknown_parents_are_refused(tmp_path):
    directory = _demo_files(tmp_path)
    path, doc = _first_service(directory)
    doc["services"].append(dict(doc["services"][0]))
    doc["units"][0]["parent"] = "no-such-partnership"
    path.write_text(json.dumps(doc), encoding="utf-8")
    (directory / "national.json").write_text('{"units": [', encoding="utf-8")
    with pytest.raises(DemoDataError) as error:
        demo_load(directory=directory)
    text = str(error.value)
    assert "national.json: is not valid JSON (line 1" in text
    assert "is used twice" in text
    assert not Service.objects.exists()


def test_an_empty_demo_folder_is_refused(tmp_path):
    with pytest.raises(DemoDataError, match="no demo files"):
        demo_load(directory=tmp_path)


def test_users_file_is_checked(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(
        json.dumps({"users": [{"username": "x", "role": "wizard", "password": "short"}]}),
        encoding="utf-8",
    )
    with pytest.raises(DemoDataError) as error:
        demo_users_read(path=path)
    assert "role 'wizard'" in str(error.value)
    assert "at least 10 characters" in str(error.value)


def test_demo_refuses_a_busy_port_with_advice_before_touching_the_database(demo_mode):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError) as error:
            call_command("demo", port=port, stdout=io.StringIO())
    assert f"Port {port}" in str(error.value)
    assert "already in use" in str(error.value)
    assert "--port" in str(error.value)
    assert not Group.objects.filter(user__username="admin").exists()
    assert not Service.objects.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_samhandling_demo_serves_the_platform_end_to_end(tmp_path):
    """The real command in a real process: migrations, demo data, ASGI server, static files."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMHANDLING_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)  # a fresh SQLite file in tmp_path, never a shared database
    env.pop("REDIS_URL", None)
    env.update(SAMHANDLING_DATA_DIR=str(tmp_path / "var"), SAMHANDLING_HTTPS="false")
    log_path = tmp_path / "demo.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "samhandling.cli", "demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log_path.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the demo did not answer within 120 seconds"
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        for path in ["/", "/healthz", "/static/core/site.css", "/api/v1/openapi.json"]:
            response = httpx.get(base + path, timeout=10)
            assert response.status_code == 200, path
        assert "Samhandling" in httpx.get(f"{base}/", timeout=10).text
        assert httpx.get(f"{base}/api/v1/openapi.json", timeout=10).json()["openapi"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = log_path.read_text(encoding="utf-8")
    for user in demo_users_read(path=USERS_FILE):
        assert re.search(rf"^\s+{user.username}\s+{user.role}\s+{user.password}$", output, re.M)
    assert f"http://127.0.0.1:{port}/" in output

import datetime as dt
import os
import subprocess
import sys

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse

from samhandling.core.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_with_correct_password_stores_an_argon2_hash(client, horten_clinician):
    response = client.post(
        reverse("core:login"), {"username": "horten-clinician", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert User.objects.get(username="horten-clinician").password.startswith("argon2")


def test_wrong_password_is_refused_with_a_clear_message(client, horten_clinician):
    response = client.post(
        reverse("core:login"), {"username": "horten-clinician", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors


def test_five_failed_logins_lock_the_account_even_for_the_right_password(client, horten_clinician):
    for _ in range(5):
        client.post(reverse("core:login"), {"username": "horten-clinician", "password": "nope"})
    response = client.post(
        reverse("core:login"), {"username": "horten-clinician", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username="horten-clinician").failures_since_start >= 5


def test_logout_ends_the_session(client, horten_clinician):
    client.force_login(horten_clinician)
    client.post(reverse("core:logout"))
    assert "_auth_user_id" not in client.session


def test_password_change_requires_the_old_password(client, horten_clinician):
    client.force_login(horten_clinician)
    response = client.post(
        reverse("core:password-change"),
        {"old_password": "wrong", "new_password1": "x7!kLq2#pZ9w", "new_password2": "x7!kLq2#pZ9w"},
    )
    assert response.status_code == 200
    horten_clinician.refresh_from_db()
    assert horten_clinician.check_password(PASSWORD)

    response = client.post(
        reverse("core:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "x7!kLq2#pZ9w",
            "new_password2": "x7!kLq2#pZ9w",
        },
    )
    assert response.status_code == 302
    horten_clinician.refresh_from_db()
    assert horten_clinician.check_password("x7!kLq2#pZ9w")


def test_session_expires_after_eight_hours(client, horten_clinician):
    with time_machine.travel(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC), tick=False) as travel:
        client.force_login(horten_clinician)
        assert client.get(reverse("core:password-change")).status_code == 200
        travel.shift(dt.timedelta(hours=8, minutes=1))
        response = client.get(reverse("core:password-change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


def test_pages_send_security_headers(client):
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMHANDLING_", "DJANGO_"))}
    env["SAMHANDLING_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "samhandling.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

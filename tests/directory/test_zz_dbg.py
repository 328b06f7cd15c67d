import re
import pytest
from tests.directory.test_edit_views import *  # noqa
pytestmark = pytest.mark.django_db
def test_dbg(client, horten_clinician, horten_service):
    client.force_login(horten_clinician)
    payload = form_payload(horten_clinician, horten_service, city="X")
    with time_machine.travel(dt.datetime(2026, 3, 10, 14, 30, tzinfo=OSLO)):
        client.post(edit_url(horten_service), payload)
    html = client.get(versions_url(horten_service), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    print(re.findall(r'<time[^<]*</time>', html))

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("who", "shown"), [("editor", True), ("referrer", False)])
def test_the_menu_links_to_the_pathway_editors_pages_for_editors_only(client, request, who, shown):
    user = request.getfixturevalue(who)
    client.force_login(user)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ('href="/pathways/edit/"' in html) is shown
    assert 'href="/pathways/"' in html

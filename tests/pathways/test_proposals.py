"""Change proposals: sent by anyone, stored as inert text with nothing about the sender,
rate-limited for the public, decided by the editors, and followed on a secret page."""

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils import timezone

from samhandling.core.models import Municipality
from samhandling.pathways.models import (
    ChangeProposal,
    PathwayVersion,
    ProposalStatus,
    ScopeKind,
    Status,
)
from samhandling.pathways.services import proposals as proposals_module
from samhandling.pathways.services.proposals import (
    TEXT_MAX,
    ProposalError,
    ProposalRateLimited,
    proposal_accept,
    proposal_by_token,
    proposal_clean_text,
    proposal_rate_check,
    proposal_reject,
    proposal_submit,
    proposals_open,
)
from samhandling.pathways.services.workflow import NotAllowed, draft_start

pytestmark = pytest.mark.django_db

PROPOSE = "/pathways/worry-anxiety/propose/"
SCRIPT = "<script>alert(1)</script><b>x</b>"
GOOD = "Skolen bør nevnes som samarbeidspart her."


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def worry(imported):
    return imported["worry-anxiety"]


@pytest.fixture
def horten(db) -> Municipality:
    return Municipality.objects.get(number="3901")


def base_of(pathway) -> PathwayVersion:
    return pathway.versions.get(scope=ScopeKind.BASE, status=Status.PUBLISHED)


def post(client, text: str, *, step: str = "", address: str = "198.51.100.7", **extra):
    url = PROPOSE + (f"?step={step}" if step else "")
    return client.post(
        url, {"text": text, "website": extra.pop("website", "")}, REMOTE_ADDR=address, **extra
    )


# --- the text ---------------------------------------------------------------------------


def test_clean_text_keeps_markup_characters_and_drops_control_characters():
    assert proposal_clean_text(SCRIPT) == SCRIPT
    assert proposal_clean_text("a\x00b\x07c\x1b[31m d") == "abc[31m d"
    assert proposal_clean_text("  one \t  two  \r\n\r\n\r\n\r\nthree\u2028four  ") == (
        "one two\n\nthree\nfour"
    )
    assert proposal_clean_text("evil\u202etxt.exe") == "eviltxt.exe"  # bidi override
    assert proposal_clean_text("A & B < 3 months > 2") == "A & B < 3 months > 2"
    assert proposal_clean_text("e\u0301") == "é"  # NFC


def test_submit_stores_the_inert_text_for_the_published_base_version(worry):
    proposal = proposal_submit(pathway=worry, text=f"  {SCRIPT}\x00  ", step_key="map-anxiety")
    proposal.refresh_from_db()
    assert proposal.text == SCRIPT
    assert proposal.step_key == "map-anxiety"
    assert proposal.version == base_of(worry)
    assert proposal.proposer is None
    assert proposal.status == ProposalStatus.NEW
    assert len(proposal.token) >= 30


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write your proposal."),
        ("   \n\t\x00  ", "Write your proposal."),
        ("too short", "at least 10 characters"),
        ("x" * (TEXT_MAX + 1), "too long: at most 4000 characters"),
    ],
)
def test_submit_refuses_empty_short_and_long_texts(worry, text, message):
    with pytest.raises(ProposalError, match=message):
        proposal_submit(pathway=worry, text=text)
    assert ChangeProposal.objects.count() == 0


def test_submit_accepts_exactly_the_limits(worry):
    assert proposal_submit(pathway=worry, text="x" * TEXT_MAX).text == "x" * TEXT_MAX
    assert proposal_submit(pathway=worry, text="0123456789").text == "0123456789"
    # Windows line breaks count once.
    text = ("y" * 9 + "\r\n") * 400
    assert len(proposal_submit(pathway=worry, text=text).text) == 3999


def test_submit_refuses_an_unknown_step(worry):
    for key in ("no-such-step", "x" * 500):
        with pytest.raises(ProposalError, match="no such step"):
            proposal_submit(pathway=worry, text=GOOD, step_key=key)
    assert ChangeProposal.objects.count() == 0


def test_a_step_changed_or_added_locally_is_proposed_to_the_local_version(worry, horten):
    horten_version = worry.versions.get(scope=ScopeKind.MUNICIPALITY, status=Status.PUBLISHED)
    changed = proposal_submit(
        pathway=worry, text=GOOD, step_key="talk-with-child", municipality=horten
    )
    added = proposal_submit(
        pathway=worry, text=GOOD, step_key="horten-family-house-meeting", municipality=horten
    )
    same = proposal_submit(
        pathway=worry, text=GOOD, step_key="psychoeducation", municipality=horten
    )
    whole = proposal_submit(pathway=worry, text=GOOD, municipality=horten)
    assert changed.version == horten_version
    assert added.version == horten_version
    assert same.version == base_of(worry)
    assert whole.version == base_of(worry)
    # Without the place, a step only Horten has does not exist.
    with pytest.raises(ProposalError):
        proposal_submit(pathway=worry, text=GOOD, step_key="horten-family-house-meeting")


def test_a_logged_in_proposer_is_recorded(worry, referrer):
    proposal = proposal_submit(pathway=worry, text=GOOD, user=referrer)
    assert proposal.proposer == referrer


# --- the public form --------------------------------------------------------------------


def test_public_proposal_is_stored_inert_and_shown_escaped_on_its_secret_page(client, worry):
    response = post(client, SCRIPT, step="map-anxiety")
    proposal = ChangeProposal.objects.get()
    assert proposal.text == SCRIPT
    assert proposal.step_key == "map-anxiety"
    assert response.status_code == 302
    assert response["Location"] == f"/pathways/proposals/{proposal.token}/"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in html
    assert "<script>alert" not in html
    assert "<b>x</b>" not in html
    assert "Thank you. Your proposal has been sent" in html
    assert f"http://testserver/pathways/proposals/{proposal.token}/" in html  # the link to keep
    assert "Kartlegge angst og unngåelse" in html  # the step's title
    assert "Waiting for the editors" in html
    assert "no-store" in page["Cache-Control"]
    assert page["X-Robots-Tag"] == "noindex"


def test_no_ip_address_or_user_agent_is_stored(client, worry):
    address, agent = "203.0.113.77", "EvilBot/1.0 (+tracking)"
    post(client, GOOD, address=address, HTTP_USER_AGENT=agent, HTTP_X_FORWARDED_FOR=address)
    proposal = ChangeProposal.objects.get()
    values = [str(getattr(proposal, f.attname)) for f in ChangeProposal._meta.concrete_fields]
    for value in values:
        assert address not in value
        assert "203.0.113" not in value
        assert "EvilBot" not in value
    assert proposal.proposer_id is None
    assert {f.name for f in ChangeProposal._meta.fields}.isdisjoint(
        {"ip", "ip_address", "user_agent", "email", "name"}
    )
    # Not in the rate limit's cache keys either: only a keyed hash is.
    keys = " ".join(str(k) for k in cache._cache)  # LocMemCache, the test cache
    assert address not in keys
    assert "proposal-rate" in keys


def test_the_sixth_public_proposal_within_the_hour_is_refused_with_429(client, worry):
    for _number in range(5):
        assert post(client, GOOD).status_code == 302
    response = post(client, GOOD)
    assert response.status_code == 429
    assert "Many proposals have been sent from here in the last hour" in response.content.decode()
    assert ChangeProposal.objects.count() == 5
    # Another sender is not affected.
    assert post(client, GOOD, address="198.51.100.8").status_code == 302
    assert ChangeProposal.objects.count() == 6


def test_the_total_limit_holds_across_senders(client, worry, monkeypatch):
    monkeypatch.setattr(proposals_module, "RATE_TOTAL", 3)
    for number in range(3):
        assert post(client, GOOD, address=f"198.51.100.{number}").status_code == 302
    response = post(client, GOOD, address="198.51.100.99")
    assert response.status_code == 429
    assert ChangeProposal.objects.count() == 3


def test_rate_check_counts_per_client_and_the_window_expires(db):
    for _number in range(5):
        proposal_rate_check(client_key="a")
    with pytest.raises(ProposalRateLimited):
        proposal_rate_check(client_key="a")
    proposal_rate_check(client_key="b")
    cache.clear()  # what the hour's expiry does
    proposal_rate_check(client_key="a")


def test_staff_are_not_rate_limited(client, worry, referrer):
    client.force_login(referrer)
    for _number in range(7):
        assert post(client, GOOD).status_code == 302
    assert ChangeProposal.objects.filter(proposer=referrer).count() == 7


def test_the_honeypot_stops_a_bot_and_nothing_is_stored(client, worry):
    response = post(client, GOOD, website="http://spam.example")
    assert response.status_code == 400
    assert ChangeProposal.objects.count() == 0


def test_invalid_text_shows_the_form_again_with_the_error_and_keeps_the_text(client, worry):
    response = post(client, "short <i>")
    html = response.content.decode()
    assert response.status_code == 400
    assert "at least 10 characters" in html
    assert 'aria-invalid="true"' in html
    assert "short &lt;i&gt;" in html
    assert ChangeProposal.objects.count() == 0
    huge = post(client, "x" * 100_000)
    assert huge.status_code == 400
    assert "too long: at most 4000 characters (it has 100000)" in huge.content.decode()
    empty = client.post(PROPOSE, {})
    assert empty.status_code == 400
    assert "Write your proposal." in empty.content.decode()
    assert ChangeProposal.objects.count() == 0


def test_the_form_for_a_step_names_it_and_an_unknown_step_is_404(client, worry):
    html = client.get(PROPOSE, {"step": "talk-with-child"}).content.decode()
    assert "Samtale med barnet" in html
    assert 'name="website"' in html
    assert 'class="pw-hp"' in html
    assert "csrfmiddlewaretoken" in html
    assert client.get(PROPOSE, {"step": "nope"}).status_code == 404
    whole = client.get(PROPOSE).content.decode()
    assert "To the pathway as a whole." in whole


def test_a_proposal_from_the_horten_page_goes_to_the_horten_version(client, worry):
    url = f"{PROPOSE}?step=horten-family-house-meeting&municipality=3901"
    response = client.post(url, {"text": GOOD, "website": ""})
    assert response.status_code == 302
    proposal = ChangeProposal.objects.get()
    assert proposal.version.scope == ScopeKind.MUNICIPALITY
    html = client.get(response["Location"]).content.decode()
    assert "Samarbeidsmøte i Familiens hus" in html


def test_unknown_token_is_404(client, worry):
    proposal_submit(pathway=worry, text=GOOD)
    assert client.get("/pathways/proposals/not-a-token/").status_code == 404
    assert client.get("/pathways/proposals/" + "a" * 500 + "/").status_code == 404
    assert proposal_by_token("") is None


# --- the editors' decisions -------------------------------------------------------------


def test_open_proposals_are_those_the_user_may_edit(
    worry, horten, base_editor, vestfold_editor, referrer
):
    national = proposal_submit(pathway=worry, text=GOOD, step_key="map-anxiety")
    local = proposal_submit(
        pathway=worry, text=GOOD, step_key="talk-with-child", municipality=horten
    )
    decided = proposal_submit(pathway=worry, text=GOOD)
    proposal_reject(user=base_editor, proposal=decided, reason="Dekket allerede.")
    assert proposals_open(user=base_editor) == [national]
    assert set(proposals_open(user=vestfold_editor)) == {national, local}
    assert proposals_open(user=referrer) == []


def test_accept_starts_the_base_draft_and_records_the_decision(worry, base_editor):
    proposal = proposal_submit(pathway=worry, text=GOOD, step_key="map-anxiety")
    draft = proposal_accept(user=base_editor, proposal=proposal)
    proposal.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert draft.scope == ScopeKind.BASE
    assert draft.number == 2
    assert proposal.status == ProposalStatus.ACCEPTED
    assert proposal.accepted_into == draft
    assert proposal.decided_by == base_editor
    assert abs((timezone.now() - proposal.decided_at).total_seconds()) < 60


def test_accept_reuses_the_open_draft(worry, base_editor, plain_editor):
    open_draft = draft_start(user=base_editor, pathway=worry)
    first = proposal_submit(pathway=worry, text=GOOD)
    second = proposal_submit(pathway=worry, text=GOOD + " Og mer.")
    assert proposal_accept(user=base_editor, proposal=first) == open_draft
    assert proposal_accept(user=plain_editor, proposal=second) == open_draft
    assert worry.versions.filter(status=Status.DRAFT).count() == 1


def test_accept_of_a_local_proposal_starts_the_local_draft(worry, horten, vestfold_editor):
    proposal = proposal_submit(
        pathway=worry, text=GOOD, step_key="talk-with-child", municipality=horten
    )
    draft = proposal_accept(user=vestfold_editor, proposal=proposal)
    assert draft.scope == ScopeKind.MUNICIPALITY
    assert draft.municipality == horten
    assert draft.status == Status.DRAFT


def test_a_national_editor_may_not_decide_a_local_proposal(worry, horten, base_editor):
    proposal = proposal_submit(
        pathway=worry, text=GOOD, step_key="talk-with-child", municipality=horten
    )
    with pytest.raises(NotAllowed):
        proposal_accept(user=base_editor, proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.NEW


def test_a_non_editor_may_neither_accept_nor_reject_and_nothing_changes(worry, referrer):
    proposal = proposal_submit(pathway=worry, text=GOOD)
    before = ChangeProposal.objects.filter(pk=proposal.pk).values().get()
    versions = PathwayVersion.objects.count()
    with pytest.raises(NotAllowed):
        proposal_accept(user=referrer, proposal=proposal)
    with pytest.raises(NotAllowed):
        proposal_reject(user=referrer, proposal=proposal, reason="Nei.")
    with pytest.raises(NotAllowed):
        proposal_accept(user=AnonymousUser(), proposal=proposal)
    assert ChangeProposal.objects.filter(pk=proposal.pk).values().get() == before
    assert PathwayVersion.objects.count() == versions


def test_reject_needs_a_reason(worry, base_editor):
    proposal = proposal_submit(pathway=worry, text=GOOD)
    for reason in ("", "   \n "):
        with pytest.raises(ProposalError):
            proposal_reject(user=base_editor, proposal=proposal, reason=reason)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.NEW
    assert proposal.reason == ""


def test_a_decided_proposal_cannot_be_decided_again(worry, base_editor):
    rejected = proposal_submit(pathway=worry, text=GOOD)
    proposal_reject(user=base_editor, proposal=rejected, reason="Står allerede i steg 2.")
    with pytest.raises(ProposalError, match="already been decided"):
        proposal_accept(user=base_editor, proposal=rejected)
    with pytest.raises(ProposalError, match="already been decided"):
        proposal_reject(user=base_editor, proposal=rejected, reason="Igjen.")
    rejected.refresh_from_db()
    assert rejected.reason == "Står allerede i steg 2."
    assert rejected.accepted_into is None
    assert not worry.versions.filter(status=Status.DRAFT).exists()
    accepted = proposal_submit(pathway=worry, text=GOOD)
    proposal_accept(user=base_editor, proposal=accepted)
    with pytest.raises(ProposalError):
        proposal_reject(user=base_editor, proposal=accepted, reason="Likevel ikke.")
    accepted.refresh_from_db()
    assert accepted.status == ProposalStatus.ACCEPTED
    assert accepted.reason == ""


def test_the_outcome_page_shows_the_rejection_reason_escaped(client, worry, base_editor):
    proposal = proposal_submit(pathway=worry, text=GOOD)
    proposal_reject(user=base_editor, proposal=proposal, reason="Dekket i steg <2> & 3.")
    html = client.get(f"/pathways/proposals/{proposal.token}/").content.decode()
    assert "Not taken up" in html
    assert "Their reason:" in html
    assert "Dekket i steg &lt;2&gt; &amp; 3." in html


def test_the_outcome_page_shows_the_version_it_was_accepted_into(client, worry, base_editor):
    proposal = proposal_submit(pathway=worry, text=GOOD)
    draft = proposal_accept(user=base_editor, proposal=proposal)
    html = client.get(f"/pathways/proposals/{proposal.token}/").content.decode()
    assert "Accepted into a draft" in html
    assert f"Accepted into version {draft.number}" in html
    assert base_editor.username not in html  # the editor's identity is not shown

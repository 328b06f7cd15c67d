"""The editor pages: dashboard, drafts, review and publishing, history, diffs, proposals,
feedback rounds. Through the Django test client, checking the response and what is stored."""

import copy
import datetime as dt
import html
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from samhandling.core.models import Municipality, OrganisationUnit, Role, UnitKind
from samhandling.pathways.forms import draft_form
from samhandling.pathways.models import (
    ChangeProposal,
    FeedbackAnswer,
    FeedbackRound,
    PathwayVersion,
    ProposalStatus,
    ScopeKind,
    Status,
)
from samhandling.pathways.services.feedback import round_open
from samhandling.pathways.services.proposals import proposal_submit
from samhandling.pathways.services.resolve import pathway_resolve
from samhandling.pathways.services.workflow import (
    draft_save,
    draft_start,
    publish,
    published_version,
    review_request,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
NEW_BODY = "Snakk med barnet i ro og fred, og avtal en ny samtale innen en uke."


@pytest.fixture
def client(client):
    """Pages in English, so the assertions read the source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def version_url(version, name="version"):
    return reverse(f"pathways_edit:{name}", kwargs={"pk": version.pk})


def payload(version, **overrides):
    """What the browser posts when the draft form is saved as shown, with `overrides`."""
    base = published_version(pathway=version.pathway) if version.scope != ScopeKind.BASE else None
    form = draft_form(version, base=base.content if base else None)
    data = {}
    for bound in form:
        value = bound.value()
        if bound.widget_type == "checkbox":
            if value:
                data[bound.html_name] = "on"
            continue
        data[bound.html_name] = "" if value is None else value
    data["action"] = "save"
    data.update(overrides)
    return data


def snapshot():
    """Everything an editor page could change."""
    return (
        list(
            PathwayVersion.objects.order_by("pk").values_list(
                "pk", "status", "revision", "content", "change_note"
            )
        ),
        list(ChangeProposal.objects.order_by("pk").values_list("pk", "status", "reason")),
        list(FeedbackRound.objects.order_by("pk").values_list("pk", "closed_at")),
        list(FeedbackAnswer.objects.order_by("pk").values_list("pk", "verdict", "comment")),
    )


def public_body(pathway, key="talk-with-child"):
    resolved = pathway_resolve(pathway=pathway)
    return next(s for s in resolved.steps() if s.key == key).data["body"]["nb"]


# --- the whole flow ------------------------------------------------------------------------


def test_draft_edit_review_publish_and_readers_see_the_change_only_after_publishing(
    client, imported, base_editor
):
    pathway = imported["worry-anxiety"]
    old_body = public_body(pathway)
    client.force_login(base_editor)

    response = client.post(
        reverse("pathways_edit:draft-start", kwargs={"slug": pathway.slug}), {"scope": "base"}
    )
    draft = PathwayVersion.objects.get(pathway=pathway, status=Status.DRAFT)
    assert response.status_code == 302
    assert response["Location"] == version_url(draft)
    assert draft.based_on == published_version(pathway=pathway)

    page = client.get(version_url(draft))
    assert page.status_code == 200
    text = page.content.decode()
    assert f'name="revision" value="{draft.revision}"' in text
    assert 'name="step__talk-with-child__body__nn"' in text
    assert "<script>" not in text
    assert 'style="' not in text

    response = client.post(
        version_url(draft),
        payload(draft, **{"step__talk-with-child__body__nb": NEW_BODY, "change_note": "Kortere"}),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert draft.change_note == "Kortere"
    assert public_body(pathway) == old_body  # a saved draft is not public
    public = client.get(reverse("pathways:detail", kwargs={"slug": pathway.slug}))
    assert NEW_BODY not in public.content.decode()

    preview = client.get(version_url(draft, "version-preview"))
    assert preview.status_code == 200
    assert NEW_BODY in preview.content.decode()

    response = client.post(version_url(draft), payload(draft, action="review"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.REVIEW
    assert public_body(pathway) == old_body

    confirm = client.get(version_url(draft, "version-publish"))
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Phase: First concern and early help › Step:" in page
    assert "body (bokmål)" in page
    assert "<ins>" in page
    assert 'name="confirm"' in page

    unconfirmed = client.post(version_url(draft, "version-publish"), {"revision": draft.revision})
    assert unconfirmed.status_code == 400
    draft.refresh_from_db()
    assert draft.status == Status.REVIEW
    assert public_body(pathway) == old_body

    response = client.post(
        version_url(draft, "version-publish"), {"revision": draft.revision, "confirm": "on"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert draft.published_by == base_editor
    assert published_version(pathway=pathway) == draft
    assert public_body(pathway) == NEW_BODY
    public = client.get(reverse("pathways:detail", kwargs={"slug": pathway.slug}))
    assert NEW_BODY in public.content.decode()

    history = client.get(
        reverse("pathways_edit:history", kwargs={"slug": pathway.slug}) + "?scope=base"
    )
    text = history.content.decode()
    assert history.status_code == 200
    assert "Published by base-editor" in text
    assert "Replaced by a newer version" in text
    assert "Kortere" in text


def test_a_review_can_be_returned_to_draft_and_changed_again(client, imported, base_editor):
    pathway = imported["sadness-depression"]
    draft = draft_start(user=base_editor, pathway=pathway)
    review_request(user=base_editor, version=draft)
    client.force_login(base_editor)
    page = client.get(version_url(draft))
    assert "Return to draft" in page.content.decode()
    assert client.post(version_url(draft, "version-return")).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert client.get(version_url(draft)).status_code == 200


def test_publishing_after_the_version_changed_asks_to_read_the_changes_again(
    client, imported, base_editor
):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    draft = review_request(user=base_editor, version=draft)
    client.force_login(base_editor)
    stale = draft.revision - 1
    response = client.post(
        version_url(draft, "version-publish"), {"revision": stale, "confirm": "on"}
    )
    assert response.status_code == 409
    assert "Read the changes again" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.REVIEW


# --- conflicts and malformed content ------------------------------------------------------


def test_a_save_from_a_stale_copy_is_refused_and_both_texts_survive(
    client, imported, base_editor, plain_editor
):
    pathway = imported["worry-anxiety"]
    draft = draft_start(user=base_editor, pathway=pathway)
    first = payload(draft, **{"step__talk-with-child__body__nb": "Først lagret tekst."})
    second = payload(draft, **{"step__talk-with-child__body__nb": "Andre redaktørs tekst."})

    client.force_login(base_editor)
    assert client.post(version_url(draft), first).status_code == 302
    client.force_login(plain_editor)
    response = client.post(version_url(draft), second)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved this draft after you opened it" in page
    assert "Andre redaktørs tekst." in page  # what the second editor typed is still there
    draft.refresh_from_db()
    body = next(
        s for p in draft.content["phases"] for s in p["steps"] if s["key"] == "talk-with-child"
    )
    assert body["body"]["nb"] == "Først lagret tekst."
    assert draft.revision == 2


def test_empty_title_in_both_languages_shows_the_problem_and_stores_nothing(
    client, imported, base_editor
):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    before = snapshot()
    client.force_login(base_editor)
    response = client.post(version_url(draft), payload(draft, title__nb="", title__nn="  "))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Check the form: nothing was saved" in page
    assert "needs a text in bokmål or nynorsk" in page
    assert 'href="#id_title__nb"' in page  # the problem links to its field
    assert snapshot() == before


def test_a_malformed_step_field_is_shown_next_to_the_step(client, imported, base_editor):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    before = snapshot()
    client.force_login(base_editor)
    response = client.post(
        version_url(draft),
        payload(
            draft,
            **{"step__talk-with-child__title__nb": "", "step__talk-with-child__title__nn": ""},
        ),
    )
    assert response.status_code == 400
    assert 'href="#id_step__talk-with-child__title__nb"' in response.content.decode()
    assert snapshot() == before


def test_sending_to_review_with_a_content_error_does_neither(client, imported, base_editor):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    client.force_login(base_editor)
    response = client.post(
        version_url(draft), payload(draft, action="review", age_min="20", age_max="10")
    )
    assert response.status_code == 400
    assert "the youngest age is above the oldest" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.revision) == (Status.DRAFT, 1)


def test_saving_a_draft_someone_sent_to_review_keeps_the_typed_text(
    client, imported, base_editor, plain_editor
):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    typed = payload(draft, **{"step__talk-with-child__body__nb": "Min uferdige tekst."})
    review_request(user=plain_editor, version=draft)
    client.force_login(base_editor)
    response = client.post(version_url(draft), typed)
    assert response.status_code == 409
    assert "Min uferdige tekst." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.REVIEW


# --- rights -------------------------------------------------------------------------------


def test_non_editors_get_403_on_every_editor_page_and_nothing_changes(
    client, imported, base_editor, vestfold_editor, referrer, horten_clinician
):
    pathway = imported["worry-anxiety"]
    draft = draft_start(user=base_editor, pathway=pathway)
    form = payload(draft, **{"step__talk-with-child__body__nb": "Ikke lov."})
    in_review = draft_start(user=base_editor, pathway=imported["sadness-depression"])
    review_request(user=base_editor, version=in_review)
    proposal = proposal_submit(
        pathway=pathway, text="Legg til telefonnummer til helsesykepleier.", step_key=""
    )
    round_ = round_open(
        user=vestfold_editor,
        title="Runde",
        partnership=None,
        pathways=[pathway],
        municipalities=[Municipality.objects.get(pk="3909")],
        closes_on=None,
    )
    slug = pathway.slug
    requests = [
        ("get", reverse("pathways_edit:dashboard"), None),
        ("post", reverse("pathways_edit:draft-start", kwargs={"slug": slug}), {"scope": "base"}),
        ("get", reverse("pathways_edit:history", kwargs={"slug": slug}), None),
        ("get", version_url(draft), None),
        ("post", version_url(draft), form),
        ("post", version_url(draft), {**form, "action": "review"}),
        ("get", version_url(draft, "version-diff"), None),
        ("get", version_url(draft, "version-preview"), None),
        ("post", version_url(in_review, "version-return"), {}),
        ("get", version_url(in_review, "version-publish"), None),
        (
            "post",
            version_url(in_review, "version-publish"),
            {"revision": in_review.revision + 1, "confirm": "on"},
        ),
        ("post", reverse("pathways_edit:proposal-accept", kwargs={"code": proposal.code}), {}),
        (
            "post",
            reverse("pathways_edit:proposal-reject", kwargs={"code": proposal.code}),
            {"reason": "Nei"},
        ),
        ("get", reverse("pathways_edit:feedback-new"), None),
        ("post", reverse("pathways_edit:feedback-new"), {"title": "X", "pathways": [pathway.pk]}),
        ("get", reverse("pathways_edit:feedback-round", kwargs={"pk": round_.pk}), None),
        (
            "post",
            reverse("pathways_edit:feedback-close", kwargs={"pk": round_.pk}),
            {"confirm": "yes"},
        ),
        # Not asked: Horten staff may not answer a round that only asks Larvik.
        ("get", reverse("pathways_edit:feedback-answer", kwargs={"pk": round_.pk}), None),
        (
            "post",
            reverse("pathways_edit:feedback-answer", kwargs={"pk": round_.pk}),
            {"municipality": "3909", f"verdict__{pathway.pk}": "green"},
        ),
        ("get", reverse("pathways_edit:feedback-list"), None),
    ]
    before = snapshot()
    for user in (referrer, horten_clinician):
        client.force_login(user)
        for method, url, data in requests:
            response = getattr(client, method)(url, data or {})
            assert response.status_code == 403, (user.username, method, url)
    assert snapshot() == before
    client.logout()
    for method, url, data in requests:
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("core:login"))
    assert snapshot() == before


def test_a_non_responsible_editor_cannot_publish(client, imported, plain_editor, vestfold):
    pathway = imported["sadness-depression"]
    draft = draft_start(
        user=plain_editor, pathway=pathway, scope=ScopeKind.PARTNERSHIP, partnership=vestfold
    )
    draft = review_request(user=plain_editor, version=draft)
    before = snapshot()
    client.force_login(plain_editor)

    page = client.get(version_url(draft))
    assert page.status_code == 200
    assert "Read the changes and publish" not in page.content.decode()
    assert "Only the responsible editor of this text publishes it." in page.content.decode()
    assert client.get(version_url(draft, "version-publish")).status_code == 403
    response = client.post(
        version_url(draft, "version-publish"), {"revision": draft.revision, "confirm": "on"}
    )
    assert response.status_code == 403
    assert snapshot() == before
    draft.refresh_from_db()
    assert draft.status == Status.REVIEW


def test_the_responsible_editor_of_the_partnership_publishes_its_adaptation(
    client, imported, plain_editor, vestfold_editor, vestfold
):
    pathway = imported["sadness-depression"]
    draft = draft_start(
        user=plain_editor, pathway=pathway, scope=ScopeKind.PARTNERSHIP, partnership=vestfold
    )
    review_request(user=plain_editor, version=draft)
    draft.refresh_from_db()
    client.force_login(vestfold_editor)
    assert "Read the changes and publish" in client.get(version_url(draft)).content.decode()
    response = client.post(
        version_url(draft, "version-publish"), {"revision": draft.revision, "confirm": "on"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED


def test_an_editor_may_not_start_a_draft_for_a_place_outside_their_partnership(
    client, imported, plain_editor
):
    before = snapshot()
    client.force_login(plain_editor)
    url = reverse("pathways_edit:draft-start", kwargs={"slug": "worry-anxiety"})
    assert client.post(url, {"scope": "municipality:0301"}).status_code == 403
    assert client.post(url, {"scope": "nonsense"}).status_code == 403
    assert snapshot() == before


def test_an_editor_may_not_read_the_history_of_another_partnerships_adaptation(
    client, imported, plain_editor
):
    client.force_login(plain_editor)
    url = reverse("pathways_edit:history", kwargs={"slug": "worry-anxiety"})
    assert client.get(url + "?scope=municipality:0301").status_code == 403
    assert client.get(url + "?scope=municipality:3901").status_code == 200
    assert client.get(url + "?scope=municipality:9999").status_code == 404


# --- local adaptations --------------------------------------------------------------------


def test_an_adaptation_draft_takes_a_local_text_and_a_new_local_step(
    client, imported, vestfold_editor
):
    pathway = imported["sadness-depression"]
    client.force_login(vestfold_editor)
    response = client.post(
        reverse("pathways_edit:draft-start", kwargs={"slug": pathway.slug}),
        {"scope": "partnership:helsefellesskap-vestfold"},
    )
    assert response.status_code == 302
    draft = PathwayVersion.objects.get(pathway=pathway, scope="partnership", status="draft")
    base = published_version(pathway=pathway).content
    first_key = base["phases"][0]["steps"][0]["key"]
    page = client.get(version_url(draft)).content.decode()
    assert "in the national text" in page  # the base text is shown beside the local field
    assert "Add a local step" in page

    data = payload(
        draft,
        **{
            f"ovr__{first_key}__body__nb": "Lokal tekst for Vestfold.",
            "new__phase": "first_concern",
            "new__after": first_key,
            "new__title__nb": "Ring los-tjenesten",
            "new__body__nb": "Losen hjelper familien videre.",
            "new__level": "early",
        },
    )
    response = client.post(version_url(draft), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.content["steps"][first_key]["body"] == {
        "nb": "Lokal tekst for Vestfold.",
        "nn": "",
    }
    added = draft.content["added_steps"]
    assert added[0]["step"]["key"] == "vestfold-joint-intake-meeting"  # the old one is kept
    assert added[-1] == {
        "phase": "first_concern",
        "after": first_key,
        "step": {
            "key": "local-ring-los-tjenesten",
            "title": {"nb": "Ring los-tjenesten", "nn": ""},
            "body": {"nb": "Losen hjelper familien videre.", "nn": ""},
            "role": {"nb": "", "nn": ""},
            "level": "early",
            "tools": [],
        },
    }

    # Emptying the local text and removing the added step takes them out again.
    data = payload(
        draft,
        **{
            f"ovr__{first_key}__body__nb": "",
            "add__local-ring-los-tjenesten__remove": "on",
        },
    )
    assert client.post(version_url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert first_key not in draft.content["steps"]
    assert [e["step"]["key"] for e in draft.content["added_steps"]] == [
        "vestfold-joint-intake-meeting"
    ]


def test_an_unknown_pinned_service_is_refused(client, imported, vestfold_editor, vestfold):
    pathway = imported["sadness-depression"]
    draft = draft_start(
        user=vestfold_editor, pathway=pathway, scope=ScopeKind.PARTNERSHIP, partnership=vestfold
    )
    before = snapshot()
    client.force_login(vestfold_editor)
    response = client.post(
        version_url(draft),
        payload(draft, **{"ovr__referral-bup__services": "siv-bup-vestfold-poliklinikk no-such"}),
    )
    assert response.status_code == 400
    assert "No service with the code no-such." in response.content.decode()
    assert snapshot() == before


def test_a_local_step_without_phase_or_level_is_refused(
    client, imported, vestfold_editor, vestfold
):
    draft = draft_start(
        user=vestfold_editor,
        pathway=imported["sadness-depression"],
        scope=ScopeKind.PARTNERSHIP,
        partnership=vestfold,
    )
    before = snapshot()
    client.force_login(vestfold_editor)
    response = client.post(version_url(draft), payload(draft, new__title__nb="Nytt steg"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose the phase the local step belongs to." in page
    assert "Choose the level of the local step." in page
    assert snapshot() == before


def test_a_municipal_preview_shows_the_draft_on_top_of_the_partnership_text(
    client, imported, vestfold_editor
):
    pathway = imported["sadness-depression"]
    horten = Municipality.objects.get(pk="3901")
    draft = draft_start(
        user=vestfold_editor, pathway=pathway, scope=ScopeKind.MUNICIPALITY, municipality=horten
    )
    client.force_login(vestfold_editor)
    data = payload(draft, **{"ovr__referral-bup__title__nb": "Henvisning fra Horten"})
    assert client.post(version_url(draft), data).status_code == 302
    page = client.get(version_url(draft, "version-preview")).content.decode()
    assert "Henvisning fra Horten" in page
    assert "Felles inntaksmøte" in page  # the Vestfold adaptation's added step
    assert "Shown as for a reader in Horten" in page


# --- diffs --------------------------------------------------------------------------------


def test_the_diff_page_compares_with_the_version_it_is_based_on_by_default(
    client, imported, base_editor
):
    pathway = imported["worry-anxiety"]
    draft = draft_start(user=base_editor, pathway=pathway)
    client.force_login(base_editor)
    data = payload(draft, **{"step__talk-with-child__body__nn": "Heilt ny tekst på nynorsk."})
    assert client.post(version_url(draft), data).status_code == 302

    page = client.get(version_url(draft, "version-diff")).content.decode()
    assert "Version 2 compared with version 1" in page
    assert "1 field changed" in page
    assert "body (nynorsk)" in page
    assert "Heilt ny tekst på nynorsk.</ins>" in page

    same = client.get(version_url(draft, "version-diff") + f"?against={draft.pk}")
    assert "No text differs between the two versions." in same.content.decode()
    other = PathwayVersion.objects.get(pathway=imported["sadness-depression"], scope="base")
    assert (
        client.get(version_url(draft, "version-diff") + f"?against={other.pk}").status_code == 404
    )
    assert client.get(version_url(draft, "version-diff") + "?against=x").status_code == 404


# --- the dashboard ------------------------------------------------------------------------


def test_the_dashboard_lists_overdue_revisions_with_days_overdue_at_a_fixed_date(
    client, imported, base_editor
):
    due = published_version(pathway=imported["worry-anxiety"]).next_revision
    with time_machine.travel(
        dt.datetime.combine(due + dt.timedelta(days=10), dt.time(12), tzinfo=OSLO), tick=False
    ):
        client.force_login(base_editor)
        page = client.get(reverse("pathways_edit:dashboard")).content.decode()
    assert "10 days overdue" in page
    assert page.count("days overdue") >= len(imported)  # every base text is due
    assert "Start the revision" in page


def test_the_dashboard_shows_drafts_and_start_forms(client, imported, vestfold_editor):
    draft = draft_start(user=vestfold_editor, pathway=imported["autism-spectrum"])
    client.force_login(vestfold_editor)
    page = client.get(reverse("pathways_edit:dashboard")).content.decode()
    assert version_url(draft) in page
    assert "No revision is overdue." in page
    assert 'value="partnership:helsefellesskap-vestfold"' in page
    assert 'value="municipality:3901"' in page
    assert 'value="municipality:0301"' not in page  # Oslo is another partnership's
    assert "?scope=municipality:3901" in page  # Horten's adaptation of worry-anxiety


def test_starting_a_draft_twice_continues_the_open_one(client, imported, base_editor):
    url = reverse("pathways_edit:draft-start", kwargs={"slug": "worry-anxiety"})
    client.force_login(base_editor)
    first = client.post(url, {"scope": "base"})
    second = client.post(url, {"scope": "base"}, follow=True)
    assert first["Location"] == second.redirect_chain[0][0]
    assert "already open" in second.content.decode()
    assert PathwayVersion.objects.filter(status=Status.DRAFT).count() == 1


# --- change proposals ---------------------------------------------------------------------


def test_a_proposal_is_shown_escaped_and_accepted_into_a_draft(client, imported, base_editor):
    pathway = imported["worry-anxiety"]
    proposal = proposal_submit(
        pathway=pathway, text="Nevn <b>skolen</b> & helsesykepleier.", step_key="talk-with-child"
    )
    client.force_login(base_editor)
    page = client.get(reverse("pathways_edit:dashboard")).content.decode()
    assert "Nevn &lt;b&gt;skolen&lt;/b&gt; &amp; helsesykepleier." in page
    assert "<b>skolen</b>" not in page
    step_title = next(
        s
        for p in published_version(pathway=pathway).content["phases"]
        for s in p["steps"]
        if s["key"] == "talk-with-child"
    )["title"]["nb"]
    assert html.escape(step_title) in page

    response = client.post(reverse("pathways_edit:proposal-accept", kwargs={"code": proposal.code}))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED
    draft = proposal.accepted_into
    assert draft.status == Status.DRAFT
    assert response["Location"] == version_url(draft)
    page = client.get(version_url(draft)).content.decode()
    assert "Proposals accepted into this draft" in page
    assert "Nevn &lt;b&gt;skolen&lt;/b&gt;" in page

    again = client.post(reverse("pathways_edit:proposal-accept", kwargs={"code": proposal.code}))
    assert again.status_code == 302
    assert PathwayVersion.objects.filter(status=Status.DRAFT).count() == 1


def test_a_proposal_is_rejected_only_with_a_reason(client, imported, base_editor):
    proposal = proposal_submit(
        pathway=imported["worry-anxiety"], text="Dette forslaget er ikke aktuelt nå."
    )
    url = reverse("pathways_edit:proposal-reject", kwargs={"code": proposal.code})
    client.force_login(base_editor)
    response = client.post(url, {"reason": "   "})
    assert response.status_code == 400
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.NEW
    response = client.post(url, {"reason": "Dekkes av et annet forløp."})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == (
        ProposalStatus.REJECTED,
        "Dekkes av et annet forløp.",
    )
    assert proposal.decided_by == base_editor


def test_an_editor_of_another_partnership_cannot_decide_a_local_proposal(client, imported, roles):
    pathway = imported["worry-anxiety"]
    horten = Municipality.objects.get(pk="3901")
    proposal = proposal_submit(
        pathway=pathway,
        text="Horten-teksten bør nevne Familiens hus.",
        step_key="talk-with-child",
        municipality=horten,
    )
    assert proposal.version.scope == ScopeKind.MUNICIPALITY
    oslo = OrganisationUnit.objects.get(code="helsefellesskap-telemark")
    outsider = make_user("telemark-editor", Role.EDITOR, oslo)
    client.force_login(outsider)
    before = snapshot()
    page = client.get(reverse("pathways_edit:dashboard")).content.decode()
    assert "Familiens hus" not in page
    accept = reverse("pathways_edit:proposal-accept", kwargs={"code": proposal.code})
    reject = reverse("pathways_edit:proposal-reject", kwargs={"code": proposal.code})
    assert client.post(accept).status_code == 403
    assert client.post(reject, {"reason": "Nei"}).status_code == 403
    assert snapshot() == before


# --- feedback rounds ----------------------------------------------------------------------


@pytest.fixture
def horten_nurse(roles, horten_unit):
    team = OrganisationUnit.objects.create(
        code="horten-skole", name="Skolehelsetjenesten", kind=UnitKind.TEAM, parent=horten_unit
    )
    return make_user("horten-nurse", Role.CLINICIAN, team)


def test_an_editor_opens_a_round_and_staff_answer_it(
    client, imported, vestfold_editor, horten_nurse, vestfold
):
    worry, sadness = imported["worry-anxiety"], imported["sadness-depression"]
    client.force_login(vestfold_editor)
    form = client.get(reverse("pathways_edit:feedback-new"))
    assert form.status_code == 200
    response = client.post(
        reverse("pathways_edit:feedback-new"),
        {"title": "Høst 2026", "partnership": vestfold.pk, "pathways": [worry.pk, sadness.pk]},
    )
    round_ = FeedbackRound.objects.get()
    assert response["Location"] == reverse("pathways_edit:feedback-round", kwargs={"pk": round_.pk})
    assert round_.municipalities.count() == 6

    client.force_login(horten_nurse)
    assert client.get(reverse("pathways_edit:feedback-list")).status_code == 200
    url = reverse("pathways_edit:feedback-answer", kwargs={"pk": round_.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert "Answers for Horten" in page.content.decode()
    # A yellow without a comment stops the whole form: the green is not stored either.
    bad = client.post(
        url,
        {
            "municipality": "3901",
            f"verdict__{worry.pk}": "green",
            f"verdict__{sadness.pk}": "yellow",
        },
    )
    assert bad.status_code == 400
    assert "a yellow or red answer needs a comment" in bad.content.decode()
    assert not FeedbackAnswer.objects.exists()
    ok = client.post(
        url,
        {
            "municipality": "3901",
            f"verdict__{worry.pk}": "green",
            f"verdict__{sadness.pk}": "yellow",
            f"comment__{sadness.pk}": "Vi mangler <kommunepsykolog>.",
        },
    )
    assert ok.status_code == 302
    assert dict(FeedbackAnswer.objects.values_list("pathway__slug", "verdict")) == {
        "worry-anxiety": "green",
        "sadness-depression": "yellow",
    }
    # Horten staff may not answer for Larvik.
    assert (
        client.post(url, {"municipality": "3909", f"verdict__{worry.pk}": "red"}).status_code == 403
    )

    client.force_login(vestfold_editor)
    matrix = client.get(reverse("pathways_edit:feedback-round", kwargs={"pk": round_.pk}))
    page = matrix.content.decode()
    assert matrix.status_code == 200
    assert "Vi mangler &lt;kommunepsykolog&gt;." in page
    assert page.count("No answer yet") == 10  # 2 pathways × 6 municipalities − 2 answers
    assert "1 green, 0 yellow, 0 red, 5 missing" in page
    assert "0 green, 1 yellow, 0 red, 5 missing" in page

    closed = client.post(
        reverse("pathways_edit:feedback-close", kwargs={"pk": round_.pk}), {"confirm": "yes"}
    )
    assert closed.status_code == 302
    round_.refresh_from_db()
    assert round_.closed_at is not None


def test_a_round_form_without_pathways_opens_nothing(client, imported, vestfold_editor):
    client.force_login(vestfold_editor)
    response = client.post(reverse("pathways_edit:feedback-new"), {"title": "Tom runde"})
    assert response.status_code == 400
    assert not FeedbackRound.objects.exists()


def test_closing_a_round_needs_the_confirmation(client, imported, vestfold_editor, vestfold):
    round_ = round_open(
        user=vestfold_editor,
        title="R",
        partnership=vestfold,
        pathways=[imported["worry-anxiety"]],
        municipalities=None,
        closes_on=None,
    )
    client.force_login(vestfold_editor)
    client.post(reverse("pathways_edit:feedback-close", kwargs={"pk": round_.pk}), {})
    round_.refresh_from_db()
    assert round_.closed_at is None


def test_the_round_form_offers_the_partnerships_municipalities_and_asks_only_those_chosen(
    client, imported, vestfold_editor, vestfold
):
    client.force_login(vestfold_editor)
    page = client.get(reverse("pathways_edit:feedback-new")).content.decode()
    assert page.count('name="municipalities"') == 6
    assert 'value="3901"' in page
    assert 'value="0301"' not in page
    response = client.post(
        reverse("pathways_edit:feedback-new"),
        {
            "title": "Bare to",
            "partnership": vestfold.pk,
            "pathways": [imported["worry-anxiety"].pk],
            "municipalities": ["3901", "3909"],
            "closes_on": "2099-01-31",
        },
    )
    assert response.status_code == 302
    round_ = FeedbackRound.objects.get()
    assert sorted(round_.municipalities.values_list("number", flat=True)) == ["3901", "3909"]
    assert round_.closes_on == dt.date(2099, 1, 31)


def test_an_adaptation_still_saves_after_the_base_dropped_a_step_it_changed(
    client, imported, base_editor, vestfold_editor, vestfold
):
    pathway = imported["sadness-depression"]
    base = draft_start(user=base_editor, pathway=pathway)
    content = copy.deepcopy(base.content)
    referral = next(p for p in content["phases"] if p["kind"] == "referral")
    referral["steps"] = [s for s in referral["steps"] if s["key"] != "referral-bup"]
    base = draft_save(user=base_editor, version=base, content=content, revision=base.revision)
    publish(user=base_editor, version=review_request(user=base_editor, version=base))
    draft = draft_start(
        user=vestfold_editor, pathway=pathway, scope=ScopeKind.PARTNERSHIP, partnership=vestfold
    )
    assert "referral-bup" in draft.content["steps"]
    client.force_login(vestfold_editor)
    response = client.post(version_url(draft), payload(draft))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert "referral-bup" not in draft.content["steps"]
    assert draft.content["added_steps"][0]["phase"] == "referral"
    assert "after" not in draft.content["added_steps"][0]


def test_a_diff_against_another_partnerships_version_is_refused(
    client, imported, plain_editor, roles
):
    pathway = imported["worry-anxiety"]
    telemark = OrganisationUnit.objects.get(code="helsefellesskap-telemark")
    outsider = make_user("telemark-editor", Role.EDITOR, telemark)
    skien = telemark.municipalities.order_by("name").first()
    theirs = draft_start(
        user=outsider, pathway=pathway, scope=ScopeKind.MUNICIPALITY, municipality=skien
    )
    mine = draft_start(user=plain_editor, pathway=pathway)
    client.force_login(plain_editor)
    url = version_url(mine, "version-diff") + f"?against={theirs.pk}"
    assert client.get(url).status_code == 403


def test_rejecting_a_proposal_someone_just_decided_says_so(client, imported, base_editor):
    proposal = proposal_submit(
        pathway=imported["worry-anxiety"], text="Et forslag som blir avgjort to ganger."
    )
    url = reverse("pathways_edit:proposal-reject", kwargs={"code": proposal.code})
    client.force_login(base_editor)
    assert client.get(url).status_code == 200
    ChangeProposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.ACCEPTED)
    response = client.post(url, {"reason": "For sent."})
    assert response.status_code == 400
    assert "already been decided" in response.content.decode()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == (ProposalStatus.ACCEPTED, "")


# --- the referral checklist and the tools of a step -----------------------------------------


def checklist_of(version, section):
    version.refresh_from_db()
    return version.content["checklist"][section]


def step_of(version, key):
    version.refresh_from_db()
    return next(s for p in version.content["phases"] for s in p["steps"] if s["key"] == key)


def test_the_draft_form_shows_the_checklist_with_a_label_for_every_field(
    client, imported, base_editor
):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    client.force_login(base_editor)
    page = client.get(version_url(draft)).content.decode()
    assert "Referral checklist" in page
    for title in (
        "Information the referral needs",
        "Measures to try first",
        "Attachments",
        "Urgent signs: act at once",
    ):
        assert f"<h3>{title}</h3>" in page
    for name in (
        "cl__required_information__item__consent__nn",
        "cl__urgent_signs__item__not-eating__remove",
        "cl__urgent_signs__new__nb",
        "step__map-anxiety__tools__nn",
    ):
        assert f'for="id_{name}"' in page
        assert f'name="{name}"' in page
    assert "kartleggingsskjema for angst\nfraværsoversikt</textarea>" in page


def test_editing_a_checklist_items_nynorsk_text_saves_it_and_keeps_its_key(
    client, imported, base_editor
):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    before = copy.deepcopy(draft.content["checklist"])
    client.force_login(base_editor)
    new_text = "Samtykkje frå barnet og/eller begge foreldra"
    response = client.post(
        version_url(draft),
        payload(draft, **{"cl__required_information__item__consent__nn": new_text}),
    )
    assert response.status_code == 302
    items = checklist_of(draft, "required_information")
    assert [i["key"] for i in items] == [i["key"] for i in before["required_information"]]
    consent = next(i for i in items if i["key"] == "consent")
    assert consent["text"] == {"nb": "Samtykke fra barnet og/eller foreldrene", "nn": new_text}
    # The empty "new item" fields added nothing; the other sections are as they were.
    assert {s: v for s, v in draft.content["checklist"].items() if s != "required_information"} == {
        s: v for s, v in before.items() if s != "required_information"
    }


def test_a_ticked_checklist_item_is_removed(client, imported, base_editor):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    client.force_login(base_editor)
    response = client.post(
        version_url(draft), payload(draft, **{"cl__measures_tried__item__exposure__remove": "on"})
    )
    assert response.status_code == 302
    assert [i["key"] for i in checklist_of(draft, "measures_tried")] == [
        "psychoeducation",
        "parent-guidance",
        "school-plan",
    ]


def test_an_urgent_sign_is_added_with_a_unique_slug_key_and_is_public_only_after_publishing(
    client, imported, base_editor
):
    pathway = imported["worry-anxiety"]
    draft = draft_start(user=base_editor, pathway=pathway)
    client.force_login(base_editor)
    added = "Økt selvskading på kort tid"
    response = client.post(
        version_url(draft),
        payload(
            draft,
            **{
                "cl__urgent_signs__new__nb": added,
                "cl__urgent_signs__new__nn": "Auka sjølvskading på kort tid",
            },
        ),
    )
    assert response.status_code == 302
    items = checklist_of(draft, "urgent_signs")
    assert items[-1] == {
        "key": "okt-selvskading-pa-kort-tid",
        "text": {"nb": added, "nn": "Auka sjølvskading på kort tid"},
    }
    assert len(items) == 5

    # A text whose slug is the key of an item already there gets a key of its own.
    response = client.post(
        version_url(draft), payload(draft, **{"cl__urgent_signs__new__nb": "Not eating"})
    )
    assert response.status_code == 302
    items = checklist_of(draft, "urgent_signs")
    assert items[-1] == {"key": "not-eating-2", "text": {"nb": "Not eating", "nn": ""}}
    assert [i["key"] for i in items].count("not-eating") == 1

    public_url = reverse("pathways:detail", kwargs={"slug": pathway.slug})
    assert added not in client.get(public_url).content.decode()
    publish(user=base_editor, version=review_request(user=base_editor, version=draft))
    assert added in client.get(public_url).content.decode()


def test_a_checklist_item_with_no_text_that_is_not_removed_is_refused(
    client, imported, base_editor
):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    before = snapshot()
    client.force_login(base_editor)
    response = client.post(
        version_url(draft),
        payload(
            draft,
            **{
                "cl__attachments__item__school-report__nb": "",
                "cl__attachments__item__school-report__nn": " ",
            },
        ),
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Check the form: nothing was saved" in page
    assert 'href="#id_cl__attachments__item__school-report__nb"' in page
    assert "Attachments › Item 2 (bokmål): needs a text in bokmål or nynorsk" in page
    assert snapshot() == before


def test_tools_are_one_per_line_and_pair_up_by_line(client, imported, base_editor):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    client.force_login(base_editor)
    response = client.post(
        version_url(draft),
        payload(
            draft,
            **{
                "step__map-anxiety__tools__nb": (
                    "\r\nkartleggingsskjema for angst \r\n\r\nfraværsoversikt\r\nny metode\r\n\r\n"
                ),
                "step__map-anxiety__tools__nn": (
                    "berre nynorsk\r\nkartleggingsskjema for angst\r\n  \r\nfråværsoversikt"
                ),
            },
        ),
    )
    assert response.status_code == 302
    expected = [
        {"nb": "", "nn": "berre nynorsk"},
        {"nb": "kartleggingsskjema for angst", "nn": "kartleggingsskjema for angst"},
        {"nb": "fraværsoversikt", "nn": "fråværsoversikt"},
        {"nb": "ny metode", "nn": ""},
    ]
    assert step_of(draft, "map-anxiety")["tools"] == expected

    # Saved again as the form shows it, nothing moves (the empty first line holds its place).
    assert client.post(version_url(draft), payload(draft)).status_code == 302
    assert step_of(draft, "map-anxiety")["tools"] == expected
    assert draft.revision == 3

    response = client.post(
        version_url(draft),
        payload(draft, **{"step__map-anxiety__tools__nb": "", "step__map-anxiety__tools__nn": ""}),
    )
    assert response.status_code == 302
    assert step_of(draft, "map-anxiety")["tools"] == []

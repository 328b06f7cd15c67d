"""What changed between two pathway documents: labelled fields, word-level diffs."""

import copy

import pytest

from samhandling.pathways.services.diff import document_diff, flatten, word_diff
from samhandling.pathways.services.workflow import published_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def worry(imported):
    return published_version(pathway=imported["worry-anxiety"]).content


def _step(document, key):
    return next(s for p in document["phases"] for s in p["steps"] if s["key"] == key)


def test_a_change_to_one_step_body_shows_exactly_that_field_with_the_inserted_words(worry):
    after = copy.deepcopy(worry)
    step = _step(after, "talk-with-child")
    step["body"]["nn"] = step["body"]["nn"] + " Ring gjerne helsesjukepleiaren først."

    diff = document_diff(worry, after)

    assert [c.label for c in diff.changes] == [
        "Phase: First concern and early help › Step: "
        f"{_step(worry, 'talk-with-child')['title']['nb']} › body (nynorsk)"
    ]
    change = diff.changes[0]
    assert change.before == _step(worry, "talk-with-child")["body"]["nn"]
    html = str(change.html)
    assert '<ins><span class="visually-hidden">added: </span> Ring gjerne' in html
    assert "helsesjukepleiaren først.</ins>" in html
    assert "<del>" not in html
    assert not diff.added_steps
    assert not diff.removed_steps


def test_identical_documents_have_no_diff(worry):
    diff = document_diff(worry, copy.deepcopy(worry))
    assert not diff
    assert diff.changes == []


def test_word_diff_marks_a_replaced_word_and_keeps_the_rest():
    html = str(word_diff("Talk with the GP today", "Talk with the nurse today"))
    assert html.startswith("Talk with the ")
    assert "<del>" in html
    assert "GP</del>" in html
    assert "nurse</ins>" in html
    assert html.endswith(" today")


def test_word_diff_escapes_typed_markup_before_marking_it():
    html = str(word_diff("Plain", 'Plain <script>alert("x")</script> & more'))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp; more" in html
    assert html.count("<ins>") == 1


def test_a_step_added_and_a_step_removed_are_listed_not_their_fields(worry):
    after = copy.deepcopy(worry)
    first_phase = after["phases"][0]
    removed = first_phase["steps"].pop(0)
    new_step = copy.deepcopy(removed)
    new_step["key"] = "brand-new-step"
    new_step["title"] = {"nb": "Nytt steg", "nn": "Nytt steg"}
    after["phases"][1]["steps"].append(new_step)

    diff = document_diff(worry, after)

    assert [s.key for s in diff.added_steps] == ["brand-new-step"]
    assert diff.added_steps[0].label.endswith("Step: Nytt steg")
    assert diff.added_steps[0].label.startswith("Phase: Targeted help in the municipality")
    assert [s.key for s in diff.removed_steps] == [removed["key"]]
    assert diff.changes == []


def test_against_nothing_every_field_is_new(worry):
    diff = document_diff(None, worry)
    assert diff.added_steps  # every step is listed as added
    labels = diff.changed_labels
    assert "Title (bokmål)" in labels
    assert "Age range" in labels
    assert not any("Step:" in label for label in labels)


def test_an_adaptation_diff_names_the_base_step_it_overrides(imported, worry):
    horten = imported["worry-anxiety"].versions.get(scope="municipality")
    before = horten.content
    after = copy.deepcopy(before)
    after["steps"]["talk-with-child"]["body"]["nb"] = "Ny lokal tekst."
    del after["added_steps"][0]

    diff = document_diff(before, after, base=worry)

    title = _step(worry, "talk-with-child")["title"]["nb"]
    assert diff.changed_labels == [
        f"Phase: First concern and early help › Step: {title} › local text › body (bokmål)"
    ]
    assert "<ins><span" in str(diff.changes[0].html)
    assert [s.key for s in diff.removed_steps] == ["horten-family-house-meeting"]
    assert diff.removed_steps[0].label.startswith("Phase: Targeted help")
    assert "Local step:" in diff.removed_steps[0].label


def test_flatten_labels_every_text_once(worry):
    fields, steps = flatten(worry)
    keys = [f.key for f in fields]
    assert len(keys) == len(set(keys))
    assert set(steps) == {s["key"] for p in worry["phases"] for s in p["steps"]}
    assert any(f.label.startswith("Referral checklist › Required information") for f in fields)


def test_a_rewritten_sentence_reads_as_one_change_not_word_by_word():
    html = str(word_diff("Ein trygg vaksen snakkar på skulen.", "Heilt ny tekst på nynorsk."))
    assert html.count("<del>") == 1
    assert html.count("<ins>") == 1
    assert "Ein trygg vaksen snakkar på skulen</del>" in html
    assert html.endswith("Heilt ny tekst på nynorsk</ins>.")

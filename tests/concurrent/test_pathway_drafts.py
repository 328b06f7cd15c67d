"""Two editors saving the same draft at once: one wins, the other gets a conflict."""

import copy
import threading

import pytest
from django.db import connection

from samhandling.pathways.models import PathwayVersion
from samhandling.pathways.services.workflow import Conflict, draft_save, draft_start


def retitled(version: PathwayVersion, title: str) -> dict:
    content = copy.deepcopy(version.content)
    content["title"]["nb"] = title
    return content


@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_at_once_one_wins_and_the_other_gets_a_conflict(imported, base_editor):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("an in-memory SQLite database is not shared between threads")
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def save(title: str) -> None:
        try:
            barrier.wait()
            draft_save(user=base_editor, version=draft, content=retitled(draft, title), revision=1)
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(t,)) for t in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    draft.refresh_from_db()
    assert draft.revision == 2
    assert draft.content["title"]["nb"] in {"A", "B"}

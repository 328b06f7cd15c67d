import pytest

from samhandling.core.models import AccessLog, AccessPurpose, Role
from samhandling.core.services import (
    access_log_for_subject,
    access_log_record,
    access_log_records,
    user_assign_role,
)
from tests.directory.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_a_read_is_logged_with_who_role_unit_what_and_why(horten_clinician):
    record = ServiceFactory()
    entry = access_log_record(
        actor=horten_clinician, obj=record, purpose=AccessPurpose.CARE, subject_key="p-1"
    )
    entry.refresh_from_db()
    assert entry.actor == horten_clinician
    assert entry.actor_name == "horten-clinician"
    assert entry.actor_roles == Role.CLINICIAN
    assert entry.actor_units == "horten-kommune"
    assert (entry.object_type, entry.object_key) == ("directory.service", str(record.code))
    assert entry.purpose == AccessPurpose.CARE
    assert entry.at is not None


def test_a_list_logs_every_row_in_one_query(horten_clinician, django_assert_max_num_queries):
    records = ServiceFactory.create_batch(5)
    with django_assert_max_num_queries(3):
        access_log_records(
            actor=horten_clinician,
            objs=records,
            purpose=AccessPurpose.ASSESSMENT,
            subject_key_of=lambda obj: f"p-{obj.pk}",
        )
    assert AccessLog.objects.count() == 5
    assert set(AccessLog.objects.values_list("object_key", flat=True)) == {
        str(r.code) for r in records
    }


def test_a_person_sees_every_read_of_their_records_and_only_theirs(horten_clinician, editor):
    record = ServiceFactory()
    access_log_record(
        actor=horten_clinician, obj=record, purpose=AccessPurpose.CARE, subject_key="a"
    )
    access_log_record(actor=editor, obj=record, purpose=AccessPurpose.QUALITY, subject_key="a")
    access_log_record(actor=editor, obj=record, purpose=AccessPurpose.QUALITY, subject_key="b")
    assert [e.actor_name for e in access_log_for_subject(subject_key="a")] == [
        "editor",
        "horten-clinician",
    ]


def test_the_log_keeps_who_read_even_after_the_user_is_deleted(horten_clinician):
    user_assign_role(user=horten_clinician, role=Role.COORDINATOR)
    entry = access_log_record(
        actor=horten_clinician, obj=ServiceFactory(), purpose=AccessPurpose.ADMINISTRATION
    )
    horten_clinician.delete()
    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_name == "horten-clinician"
    assert entry.actor_roles == "clinician,coordinator"

"""Tests of simultaneous requests: real threads, each with its own database connection.

They need transactions that really commit, so pytest-django empties the tables after each.
They run in their own pass (see scripts/test), after the rest, so no other test loses the
reference data, and reload it themselves when an earlier one emptied it.
"""

import pytest

from tests.conftest import reference_data_reload


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    reference_data_reload()

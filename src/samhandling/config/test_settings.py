"""Settings for the test suite: production settings over plain HTTP on loopback."""

import os

os.environ.setdefault("SAMHANDLING_HTTPS", "false")
os.environ.setdefault("SAMHANDLING_MANIFEST_STATIC", "false")

from samhandling.config.settings import *  # noqa: F403

# Fewer argon2 rounds would hide nothing the tests check; keep the real hasher.
AXES_FAILURE_LIMIT = 5

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: tests of concurrent requests use several threads, each with its
    # own connection, and an in-memory database is private to one connection.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-samhandling.sqlite3")}  # noqa: F405

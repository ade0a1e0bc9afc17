"""Fixtures shared by the integration tests that need a whole Buzón (events, jobs)."""

from tests.integration.archive_fixtures import archive_bed  # noqa: F401 - the fixture
from tests.integration.events_fixtures import events_bed  # noqa: F401 - the fixture
from tests.integration.issuing_fixtures import issuing_bed  # noqa: F401 - the fixture
from tests.integration.titles_fixtures import titles_bed  # noqa: F401 - the fixture

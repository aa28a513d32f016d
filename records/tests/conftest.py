from records.tests.fixtures import (  # noqa: F401 (fixtures)
    emergency_client,
    emergency_grant,
    prescription,
    record,
    refill,
    visit,
)

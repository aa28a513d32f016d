"""No two scheduled appointments of a provider, or of a patient, overlap (PostgreSQL).

btree_gist lets one GiST index combine equality on the provider/patient id with
overlap (&&) of the time range. The range is tstzrange(date_time, date_time +
duration) for status 'scheduled' only: cancelled and finished appointments free
their time. timestamptz + interval is only STABLE (a day-long interval depends
on the zone), so the range is built by an IMMUTABLE function of minutes, which
is exact whatever the session's zone.

SQLite, the default engine, has no exclusion constraints; there the booking
services serialize the check under the database's write lock. These steps are
skipped on every engine but PostgreSQL and leave Django's schema state alone.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from scheduling.db import RunSQLOnPostgres

RANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION appointment_time_range(starts timestamptz, minutes integer)
RETURNS tstzrange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT tstzrange(starts, starts + make_interval(mins => minutes), '[)') $$;
"""

CONSTRAINTS = """
ALTER TABLE appointments
  ADD CONSTRAINT appointments_provider_no_overlap
  EXCLUDE USING gist (provider_id WITH =, appointment_time_range(date_time, duration_minutes) WITH &&)
  WHERE (status = 'scheduled');
ALTER TABLE appointments
  ADD CONSTRAINT appointments_patient_no_overlap
  EXCLUDE USING gist (patient_id WITH =, appointment_time_range(date_time, duration_minutes) WITH &&)
  WHERE (status = 'scheduled');
"""

DROP_CONSTRAINTS = """
ALTER TABLE appointments DROP CONSTRAINT IF EXISTS appointments_patient_no_overlap;
ALTER TABLE appointments DROP CONSTRAINT IF EXISTS appointments_provider_no_overlap;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0002_appointment_lifecycle_time_off_feeds"),
    ]

    operations = [
        BtreeGistExtension(),
        RunSQLOnPostgres(RANGE_FUNCTION, "DROP FUNCTION IF EXISTS appointment_time_range(timestamptz, integer);"),
        RunSQLOnPostgres(CONSTRAINTS, DROP_CONSTRAINTS),
    ]

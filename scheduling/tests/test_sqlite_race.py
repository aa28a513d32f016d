"""On SQLite the booking check is serialized: twenty concurrent bookings of one slot, one wins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_twenty_concurrent_bookings_on_a_sqlite_file_give_one_appointment(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scheduling.tests.sqlite_race", str(tmp_path / "race.sqlite3")],
        cwd=PROJECT_ROOT,
        env={key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT:")]
    assert lines, result.stdout[-3000:] + result.stderr[-3000:]
    outcome = json.loads(lines[0].removeprefix("RESULT:"))

    assert outcome["vendor"] == "sqlite"
    assert outcome["statuses"] == [302] + [409] * 19
    assert outcome["taken_messages"] == 19
    assert outcome["appointments"] == 1

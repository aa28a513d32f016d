"""Load test: signed-in patients and providers against the production rehearsal set-up.

Starts what docker-compose runs, without Docker (tests/rehearsal.py: a PostgreSQL
database of its own, Redis, `migrate`, web processes and one task worker, with
production settings and a real SMTP server), adds load accounts, then runs locust
headless (bench/locustfile.py): patients on their dashboard, appointments, the
booking page, booking, and messaging; providers on their dashboard, calendar and
messages; every user keeps its message websocket open. A few users fetch
/healthz in the same run, the floor to compare with.

It runs the same load against 2 web processes, then against 1, and prints
requests/s and the median and 95th percentile for each, and their ratio to /healthz.

    .venv/bin/python bench/bench_load.py                      # 60 s each, 40 users, 0.5-1.5 s pauses
    .venv/bin/python bench/bench_load.py --seconds 30 --users 20

Needs PostgreSQL (REHEARSAL_POSTGRES_URL or DATABASE_URL's server, else
localhost) and Redis (REDIS_TEST_URL). Speed goals live here: this prints figures,
it asserts nothing. Locust runs on the same machine as the servers, so the
figures are those of one shared machine, not of a deployment.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthcare.settings")

import django  # noqa: E402

django.setup()

from tests import rehearsal  # noqa: E402

# Load accounts, created in the rehearsal database through the services.
SETUP = """
import datetime as dt
from django_otp.plugins.otp_totp.models import TOTPDevice
from messaging.services import message_send
from patients.services import patient_create
from providers.models import ProviderProfile
from providers.services import provider_create, relationship_activate

hours = ProviderProfile.objects.get(user__email="anika.patel@demo.clinic").working_hours
providers = []
for i in range({providers}):
    profile = provider_create(
        email=f"load.provider{{i}}@bench.test", full_name=f"Load Provider {{i}}",
        password="{password}", credentials="MD", specialization="Family Medicine",
        working_hours=hours,
    )
    TOTPDevice.objects.create(user=profile.user, name="bench", key="{key}", confirmed=True)
    providers.append(profile)
for j in range({patients}):
    patient = patient_create(
        email=f"load.patient{{j}}@bench.test", full_name=f"Load Patient {{j}}",
        date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=j), password="{password}",
        email_verified=True,
    )
    provider = providers[j % len(providers)]
    relationship_activate(provider=provider, patient=patient)
    message_send(sender=provider.user, receiver=patient.user, content="Welcome to the practice.")
"""


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summary(samples: list[list[float]]) -> dict[str, float]:
    if not samples:
        return {"rps": 0.0, "p50": float("nan"), "p95": float("nan"), "count": 0}
    stamps = [s[0] for s in samples]
    times = [s[1] for s in samples]
    span = max(stamps) - min(stamps) or 1.0
    return {
        "rps": len(samples) / span,
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "count": len(samples),
    }


def run(
    web_count: int, *, users: int, seconds: int, providers: int, wait: str, workdir: Path
) -> dict:
    patients = users - providers - 2
    log_dir = workdir / f"web{web_count}"
    log_dir.mkdir()
    with rehearsal.production_stack(
        log_dir,
        web_count=web_count,
        # One client address signs in everyone: the per-address sign-in limit is off here.
        RATELIMIT_SIGN_IN="",
        LOG_LEVEL="ERROR",
    ) as stack:
        rehearsal._manage(
            stack.env,
            "shell",
            "-c",
            SETUP.format(
                providers=providers,
                patients=patients,
                password=rehearsal.DEMO_PASSWORD,
                key=rehearsal.DEMO_TOTP_KEY_HEX,
            ),
        )
        results = workdir / f"results-{web_count}.json"
        env = {
            **os.environ,
            "LOAD_HOSTS": ",".join(server.base for server in stack.web),
            "LOAD_PATIENTS": ",".join(f"load.patient{j}@bench.test" for j in range(patients)),
            "LOAD_PROVIDERS": ",".join(f"load.provider{i}@bench.test" for i in range(providers)),
            "LOAD_HEALTH_USERS": "2",
            "LOAD_WAIT_SECONDS": wait,
            "LOAD_USERS": str(users),
            "LOAD_MEASURE_SECONDS": str(seconds),
            "LOAD_RESULTS": str(results),
        }
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(max(1, users // 20)),
                # A cap only: the locustfile stops once it has measured `seconds`
                # after everyone signed in.
                "--run-time",
                f"{seconds + 600}s",
                "--host",
                stack.web[0].base,
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            check=False,
            stdout=(log_dir / "locust.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        data = json.loads(results.read_text())
    return {
        "pages": summary(data["pages"]),
        "healthz": summary(data["healthz"]),
        "failures": data["failures"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--providers", type=int, default=6)
    parser.add_argument(
        "--wait", default="0.5,1.5", help="min,max seconds each user pauses between actions"
    )
    args = parser.parse_args()
    if not (rehearsal.postgres_available() and rehearsal.redis_available()):
        sys.exit("Needs PostgreSQL and Redis (REDIS_TEST_URL); see the docstring.")

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        figures = {
            count: run(
                count,
                users=args.users,
                seconds=args.seconds,
                providers=args.providers,
                wait=args.wait,
                workdir=Path(tmp),
            )
            for count in (2, 1)
        }

    print(
        f"\n{args.users} users ({args.providers} providers, 2 on /healthz), "
        f"{args.seconds} s each, each user pausing {args.wait.replace(',', '-')} s between actions\n"
    )
    print(
        f"{'web processes':<14} {'what':<8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p50 / healthz':>14} {'failures':>9}"
    )
    for count, result in figures.items():
        pages, health = result["pages"], result["healthz"]
        ratio = pages["p50"] / health["p50"] if health["p50"] else float("nan")
        print(
            f"{count:<14} {'pages':<8} {pages['rps']:>7.1f} {pages['p50']:>8.0f} "
            f"{pages['p95']:>8.0f} {ratio:>14.1f} {len(result['failures']):>9}"
        )
        print(
            f"{'':<14} {'/healthz':<8} {health['rps']:>7.1f} {health['p50']:>8.0f} "
            f"{health['p95']:>8.0f} {'1.0':>14}"
        )
        for failure in sorted(set(result["failures"]))[:5]:
            print(f"{'':<14} failure: {failure[:120]}")
    two, one = figures[2]["pages"], figures[1]["pages"]
    if one["rps"]:
        print(
            f"\n2 processes vs 1: {two['rps'] / one['rps']:.2f}x requests/s, "
            f"p95 {two['p95']:.0f} ms vs {one['p95']:.0f} ms"
        )


if __name__ == "__main__":
    main()

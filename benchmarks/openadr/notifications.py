"""Event created → notification received by N subscribed VENs: p50/p99 latency by webhook and by MQTT.

What runs: a fresh PostgreSQL database (migrated), N active sites each with a registered ven; for the webhook
run, one subscription per VEN (EVENT CREATE, its own callback path on a local asyncio HTTP sink in its own
process, benchmarks/openadr/sink.py, standing for the VENs' endpoints; the rows are stored directly, without N
echo challenges); for the MQTT
run, no subscription and ``MQTT_URL`` set, with a paho subscriber on ``vens/+/events/create`` in this process.
Timed: business logic creates an event targeted at the VENs' market zone (``services.event_create``, the
service ``POST /events`` calls) → commit → ``fan_out_notifications`` through Redis → a real Celery worker
(prefork, 1 process, default queue) → match, delivery log, 32 concurrent POSTs (or N MQTT publishes at QoS 1).
Latency of each delivery = its arrival at the sink / subscriber − the moment before the event was created.
One untimed warm-up event first in each run (the worker's first task imports code and opens connections).

    DATABASE_URL=postgres://… REDIS_URL=redis://…/3 MQTT_TEST_URL=mqtt://127.0.0.1:1883 \\
        .venv/bin/python benchmarks/openadr/notifications.py --vens 1000 --repeats 3
    … --small    # 50 VENs, 2 repeats (CI)

Target (issue #19): p99 ≤ 2 s at 1,000 VENs, webhook and MQTT; no write waits on a callback (the write's own
time is printed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vpp.settings.test")


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def seed(n: int) -> tuple[object, list[str]]:
    """N active sites in one zone with a ven each; returns (program, ven client ids)."""
    from apps.accounts.choices import OrganisationKind
    from apps.accounts.services import organisation_create
    from apps.assets.models import Site
    from apps.core import clock
    from apps.core.models import MarketZone
    from apps.core.services import market_zones_ensure
    from apps.openadr import services
    from apps.openadr.models import Ven, VenTarget
    from apps.openadr.selectors import site_targets

    market_zones_ensure()
    zone = MarketZone.objects.get(pk="CAISO_NP15")
    owner = organisation_create(name="Bench owner", kind=OrganisationKind.SITE_OWNER, slug="bench-owner")
    sites = Site.objects.bulk_create(
        [
            Site(
                owner=owner,
                name=f"Bench DC {i}",
                latitude=37.4,
                longitude=-121.9,
                timezone="America/Los_Angeles",
                market_zone=zone,
                grid_import_limit_kw=20000,
                grid_export_limit_kw=0,
                pue=1.3,
                it_capacity_kw=10000,
                enrolment_status="active",
            )
            for i in range(n)
        ]
    )
    now = clock.now()
    vens = Ven.objects.bulk_create(
        [
            Ven(
                ven_name=f"ven-{i}",
                client_id=f"bench-ven-{i}",
                site=site,
                targets=site_targets(site),
                created_date_time=now,
                modification_date_time=now,
            )
            for i, site in enumerate(sites)
        ]
    )
    VenTarget.objects.bulk_create([VenTarget(ven=v, value=t) for v in vens for t in v.targets])
    program = services.program_create(caller=None, data={"programName": "bench"})
    return program, [v.client_id for v in vens]


def subscribe_all(client_ids: list[str], sink_url: str) -> None:
    from apps.core import clock
    from apps.openadr.models import Subscription

    now = clock.now()
    Subscription.objects.bulk_create(
        [
            Subscription(
                client_id=client_id,
                client_role="ven",
                client_name=client_id,
                object_operations=[
                    {
                        "objects": ["EVENT"],
                        "operations": ["CREATE"],
                        "callbackUrl": f"{sink_url}/{client_id}",
                        "bearerToken": f"tok-{client_id}",
                    }
                ],
                created_date_time=now,
                modification_date_time=now,
            )
            for client_id in client_ids
        ]
    )


def create_event(program: object, name: str) -> tuple[float, float]:
    """Create one zone-targeted event; returns (t0 before the write, the write's own seconds)."""
    from apps.openadr import services

    body = {
        "programID": str(program.pk),  # type: ignore[attr-defined]
        "eventName": name,
        "targets": ["zone-CAISO_NP15"],
        "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": "PT15M"},
        "intervals": [{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [800.0]}]}],
    }
    t0 = time.time()
    services.event_create(caller=None, data=body)
    return t0, time.time() - t0


def warm_up(program: object, n: int, count: object) -> None:
    """One untimed event first: the worker's first task imports the code paths and opens its connections."""
    before = count()  # type: ignore[operator]
    create_event(program, "warm-up")
    deadline = time.monotonic() + 120
    while count() - before < n and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)
    time.sleep(0.5)


class Sink:
    """benchmarks/openadr/sink.py in its own process."""

    def __init__(self) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sink.py"))], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def arrivals(self, since: int = 0) -> list[float]:
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.base}/_arrivals?since={since}", timeout=30) as response:
            return json.loads(response.read())

    def wait_for(self, since: int, n: int, timeout_s: float = 120) -> list[float]:
        deadline = time.monotonic() + timeout_s
        while True:
            got = self.arrivals(since)
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def run_webhook(program: object, n: int, repeats: int, sink: Sink) -> dict:
    from apps.core.workers import celery_worker

    latencies: list[float] = []
    writes: list[float] = []
    with celery_worker(queues="default", concurrency=1, settings_module="vpp.settings.test"):
        warm_up(program, n, lambda: len(sink.arrivals()))
        for r in range(repeats):
            before = len(sink.arrivals())
            t0, write_s = create_event(program, f"webhook-{r}")
            got = sink.wait_for(before, n)
            if len(got) < n:
                raise SystemExit(f"webhook run {r}: only {len(got)} of {n} notifications arrived")
            latencies.extend(at - t0 for at in got)
            writes.append(write_s)
            time.sleep(0.5)
    return {"deliveries": len(latencies), "latencies": latencies, "write_s": writes}


def run_mqtt(program: object, n: int, repeats: int, url: str) -> dict:
    import paho.mqtt.client as paho
    from django.conf import settings

    from apps.core.workers import celery_worker

    prefix = f"bench-{uuid.uuid4().hex[:8]}/"
    settings.MQTT_URL, settings.OPENADR_MQTT_TOPIC_PREFIX = url, prefix
    arrivals: list[tuple[float, str]] = []
    lock, ready = threading.Lock(), threading.Event()

    def on_message(client, userdata, message):  # type: ignore[no-untyped-def]
        with lock:
            arrivals.append((time.time(), message.topic))

    from urllib.parse import urlsplit

    parts = urlsplit(url)
    listener = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2)
    listener.on_message = on_message
    listener.on_subscribe = lambda *a: ready.set()
    listener.on_connect = lambda c, u, f, rc, p=None: c.subscribe(f"{prefix}vens/+/events/create", qos=1)
    listener.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    listener.loop_start()
    if not ready.wait(10):
        raise SystemExit("could not subscribe to the MQTT broker")
    latencies: list[float] = []
    writes: list[float] = []
    env = {"MQTT_URL": url, "OPENADR_MQTT_TOPIC_PREFIX": prefix}
    try:
        with celery_worker(
            queues="default", concurrency=1, settings_module="vpp.settings.test", extra_env=env
        ):
            warm_up(program, n, lambda: len(arrivals))
            for r in range(repeats):
                with lock:
                    before = len(arrivals)
                t0, write_s = create_event(program, f"mqtt-{r}")
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    with lock:
                        if len(arrivals) - before >= n:
                            break
                    time.sleep(0.01)
                with lock:
                    got = arrivals[before:]
                if len(got) < n:
                    raise SystemExit(f"MQTT run {r}: only {len(got)} of {n} messages arrived")
                latencies.extend(at - t0 for at, _ in got)
                writes.append(write_s)
                time.sleep(0.5)
    finally:
        listener.loop_stop()
        listener.disconnect()
        settings.MQTT_URL = ""
    return {"deliveries": len(latencies), "latencies": latencies, "write_s": writes}


def summary(name: str, n: int, result: dict) -> dict:
    lat = result["latencies"]
    out = {
        "notifier": name,
        "vens": n,
        "deliveries": result["deliveries"],
        "p50_s": round(statistics.median(lat), 3),
        "p99_s": round(percentile(lat, 0.99), 3),
        "max_s": round(max(lat), 3),
        "write_max_s": round(max(result["write_s"]), 3),
    }
    print(
        f"{name:8s} {n:5d} VENs  {out['deliveries']:6d} deliveries  p50 {out['p50_s']:.3f} s  "
        f"p99 {out['p99_s']:.3f} s  max {out['max_s']:.3f} s  (the write itself: ≤ {out['write_max_s']:.3f} s)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vens", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="50 VENs, 2 repeats (CI)")
    parser.add_argument("--skip-mqtt", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    n, repeats = (50, 2) if args.small else (args.vens, args.repeats)
    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("needs DATABASE_URL (PostgreSQL) and REDIS_URL (a real worker runs the fan-out)")

    import django

    django.setup()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    sink = Sink()
    results = []
    try:
        program, client_ids = seed(n)
        load = os.getloadavg()[0]
        subscribe_all(client_ids, sink.base)
        results.append(summary("webhook", n, run_webhook(program, n, repeats, sink)))
        from apps.openadr.models import Subscription

        Subscription.objects.all().delete()
        mqtt_url = os.environ.get("MQTT_TEST_URL", "")
        if mqtt_url and not args.skip_mqtt:
            results.append(summary("mqtt", n, run_mqtt(program, n, repeats, mqtt_url)))
        else:
            print("mqtt     skipped (set MQTT_TEST_URL, e.g. mqtt://127.0.0.1:1883)")
        print(
            f"load average (1 min) before / after: {load:.1f} / {os.getloadavg()[0]:.1f}; repeats {repeats}"
        )
    finally:
        sink.stop()
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

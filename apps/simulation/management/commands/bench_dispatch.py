"""``manage.py bench_dispatch --sites N [--repeats R] [--json FILE]``: activation → setpoints latency.

Sets up N active sites (a throwaway owner organisation) with webhooks to a local sink, a program, and per
repeat an announced, bid and awarded event (the award's prepared plan is solved by the worker before the
activation, as in operation). Then, timed: one activation through the REST API (in-process, with the
operator's bearer token) → the real Celery worker on the ``dispatch`` queue (Redis) stores every setpoint and
POSTs signed webhooks to the sink. Prints p50/p99 of activation→all setpoints stored and activation→all
delivered, the median of each stage the worker logs (API → task start, read + scale, bulk writes, commit,
webhook fan-out), the worker's CPU seconds per activation and the machine's load average, and removes
everything it created. Needs REDIS_URL (and PostgreSQL for meaningful figures).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from apps.accounts.choices import ApiClientRole, OrganisationKind
from apps.accounts.models import Organisation
from apps.accounts.principal import Principal
from apps.accounts.services import access_token_issue, api_client_create
from apps.assets.models import Battery, Site, WorkloadClass
from apps.core import clock
from apps.core.models import MarketZone
from apps.core.workers import celery_worker
from apps.dispatch.choices import DeliveryStatus
from apps.dispatch.models import (
    Delivery,
    DeliveryCheck,
    DispatchPlan,
    PreparedPlan,
    Setpoint,
    WebhookEndpoint,
)
from apps.markets import services as markets
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.models import Activation, Award, Bid, Event, Program
from apps.markets.rules import IntervalOffer
from apps.simulation.market import InProcessApi

STEP = timedelta(minutes=15)


class _Sink:
    """A webhook receiver in its own process (asyncio), so it neither shares this process's GIL nor limits
    concurrent connections: it stands for the sites' own endpoints on other machines."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "apps.simulation.bench_sink"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=settings.BASE_DIR,
        )
        port = int(self.proc.stdout.readline())  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Command(BaseCommand):
    help = (
        "Measure activation → all setpoints stored → all delivered, through the API, a real worker and Redis."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sites", type=int, default=100)
        parser.add_argument("--repeats", type=int, default=5)
        parser.add_argument("--json", dest="json_file")
        parser.add_argument("--timeout", type=float, default=120.0)

    def handle(self, *args: object, **opts: object) -> None:
        if not settings.REDIS_URL:
            raise CommandError(
                "bench_dispatch needs REDIS_URL (a real broker) and a worker it starts itself."
            )
        if not settings.VPP_ACTIVATION_TASK or not settings.VPP_AWARD_TASK:
            raise CommandError("VPP_ACTIVATION_TASK and VPP_AWARD_TASK must be set (they are by default).")
        n, repeats = int(opts["sites"]), int(opts["repeats"])  # type: ignore[call-overload]
        timeout = float(opts["timeout"])  # type: ignore[arg-type]
        sink = _Sink()
        owner, aggregator, operator, created_aggregator = self._setup(n, sink.url)
        self.owner = owner
        stored, delivered, prepare, cpu = [], [], [], []
        stages: dict[str, list[float]] = {}
        load_before = os.getloadavg()
        try:
            creds = api_client_create(organisation=operator, role=ApiClientRole.ADMIN, name="bench")
            token = access_token_issue(
                client_id=creds.api_client.client_id, client_secret=creds.client_secret
            )
            api = InProcessApi(token.access_token)
            program = program_from_template(
                operator=operator,
                zone=self.zone,
                template=CATALOGUE["caiso-pdr-peak"],
            )
            with celery_worker(queues="dispatch,default", concurrency=2, log_level="info") as worker:
                self.stdout.write(f"worker log: {worker.log_path}")
                for r in range(repeats):
                    s, d, p, c, stage = self._one(
                        r, n, program, aggregator, operator, api, sink, timeout, worker
                    )
                    stored.append(s)
                    delivered.append(d)
                    prepare.append(p)
                    cpu.append(c)
                    for key, value in stage.items():
                        stages.setdefault(key, []).append(value)
                    self.stdout.write(
                        f"repeat {r + 1}: stored {s:.3f} s, delivered {d:.3f} s, worker CPU {c:.2f} s "
                        f"(prepare {p:.2f} s); stages {json.dumps({k: round(v, 3) for k, v in stage.items()})}"
                    )
        finally:
            clock.replay_stop()
            self._cleanup(owner, operator, aggregator if created_aggregator else None)
            sink.close()
        result = {
            "sites": n,
            "repeats": repeats,
            "database": connection.vendor,
            "p50_s": _q(delivered, 50),
            "p99_s": _q(delivered, 99),
            "p50_stored_s": _q(stored, 50),
            "p99_stored_s": _q(stored, 99),
            "prepare_seconds_median": statistics.median(prepare),
            "worker_cpu_s_median": statistics.median(cpu),
            "stages_median_s": {k: round(statistics.median(v), 4) for k, v in stages.items()},
            "loadavg_1m_before": round(load_before[0], 2),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
        }
        self.stdout.write(json.dumps(result, indent=2))
        if opts["json_file"]:
            with open(str(opts["json_file"]), "w") as handle:
                json.dump(result, handle, indent=2)

    def _setup(self, n: int, url: str):
        stamp = time.time_ns()
        # A zone of its own, so that no other active site of this database joins the benchmark's plans.
        zone = MarketZone.objects.create(
            code=f"BENCH_{stamp % 10**12}", name="bench zone", timezone="UTC", currency="USD"
        )
        self.zone = zone
        owner = Organisation.objects.create(
            name=f"bench owner {stamp}", slug=f"bench-owner-{stamp}", kind=OrganisationKind.SITE_OWNER
        )
        operator = Organisation.objects.create(
            name=f"bench operator {stamp}", slug=f"bench-op-{stamp}", kind=OrganisationKind.MARKET_OPERATOR
        )
        aggregator = Organisation.objects.filter(kind=OrganisationKind.AGGREGATOR).first()
        created = aggregator is None
        if created:
            aggregator = Organisation.objects.create(
                name=f"bench aggregator {stamp}", slug=f"bench-agg-{stamp}", kind=OrganisationKind.AGGREGATOR
            )
        rng = np.random.default_rng(7)
        with transaction.atomic():
            sites = Site.objects.bulk_create(
                [
                    Site(
                        owner=owner,
                        name=f"bench {i}",
                        latitude=37.4,
                        longitude=-121.9,
                        timezone="America/Los_Angeles",
                        market_zone=zone,
                        grid_import_limit_kw=1e6,
                        pue=float(rng.uniform(1.1, 1.5)),
                        it_capacity_kw=float(rng.uniform(500, 5000)),
                        enrolment_status="active",
                    )
                    for i in range(n)
                ]
            )
            WorkloadClass.objects.bulk_create(
                [WorkloadClass(site=s, name="inference", kind="inference", share_pct=40) for s in sites]
                + [
                    WorkloadClass(site=s, name="batch", kind="batch", share_pct=40, max_delay_h=6)
                    for s in sites
                ]
            )
            Battery.objects.bulk_create(
                [
                    Battery(
                        site=s,
                        name="ups",
                        energy_capacity_kwh=500,
                        max_charge_kw=250,
                        max_discharge_kw=250,
                        soc_min_kwh=50,
                        soc_max_kwh=500,
                        backup_reserve_kwh=150,
                    )
                    for s in sites
                ]
            )
            WebhookEndpoint.objects.bulk_create(
                [WebhookEndpoint(site=s, url=url, secret="bench") for s in sites]
            )
        return owner, aggregator, operator, created

    def _one(self, r, n, program, aggregator, operator, api, sink, timeout, worker):
        principal = Principal(organisation=operator, role="admin")
        clock.replay_stop()
        start = clock.floor_to(clock.now() + timedelta(hours=4 + 2 * r), timedelta(hours=1))
        event = markets.event_announce(
            principal=principal,
            program=program,
            start=start,
            end=start + timedelta(hours=1),
            requested_kw=1e6,
        )
        total_it = sum(Site.objects.filter(owner=self.owner).values_list("it_capacity_kw", flat=True))
        kw = 10.0 * round(
            0.05 * total_it / 10
        )  # 5 % of the portfolio's IT capacity, on the 10 kW granularity
        offers = [IntervalOffer(start + i * STEP, start + (i + 1) * STEP, kw, 50) for i in range(4)]
        bid = markets.bid_save(event=event, bidder_id=aggregator.pk, offers=offers, submit=True)
        clock.replay_start(sim_start=event.gate_closure_at, speed=0)
        t_prepare = time.perf_counter()
        markets.award_post(
            principal=principal,
            event=event,
            bid=bid,
            clearing_price_per_mwh=100,
            intervals=[(o.start, o.quantity_kw) for o in offers],
        )
        _wait(lambda: PreparedPlan.objects.filter(event=event).exists(), timeout)
        prepare_s = time.perf_counter() - t_prepare
        clock.replay_jump(to=start)
        cpu0 = _tree_cpu_seconds(worker.pid)
        posted_at = time.time()
        t0 = time.perf_counter()
        status, body = api.call(
            "post",
            f"/api/v1/market/events/{event.pk}/activations/",
            {"activation_id": f"bench-{event.pk}", "start": start.isoformat(), "kw": kw},
        )
        if status != 201:
            raise CommandError(f"activation refused: {status} {body}")
        # The plan, its setpoints and deliveries commit together: poll for the plan, then count by its id.
        plans = DispatchPlan.objects.filter(activation_id=body["id"])
        _wait(plans.exists, timeout)
        plan_id = plans.values_list("pk", flat=True).get()
        _wait(lambda: Setpoint.objects.filter(plan_id=plan_id).count() == 4 * n, timeout)
        t_stored = time.perf_counter() - t0
        _wait(
            lambda: Delivery.objects.filter(plan_id=plan_id, status=DeliveryStatus.DELIVERED).count() == n,
            timeout,
        )
        t_delivered = time.perf_counter() - t0
        _wait(lambda: _stages(worker.log_path, body["id"]) is not None, timeout)
        stages = _stages(worker.log_path, body["id"]) or {}
        stages["api_to_task_start"] = stages.pop("started_at") - posted_at
        return t_stored, t_delivered, prepare_s, _tree_cpu_seconds(worker.pid) - cpu0, stages

    def _cleanup(self, owner, operator, aggregator) -> None:
        events = Event.objects.filter(program__operator=operator)
        Delivery.objects.filter(plan__activation__event__in=events).delete()
        DeliveryCheck.objects.filter(activation__event__in=events).delete()
        DispatchPlan.objects.filter(activation__event__in=events).delete()
        PreparedPlan.objects.filter(event__in=events).delete()
        Activation.objects.filter(event__in=events).delete()
        Award.objects.filter(bid__event__in=events).delete()
        Bid.objects.filter(event__in=events).delete()
        events.delete()
        Program.objects.filter(operator=operator).delete()
        Site.objects.filter(owner=owner).delete()
        operator.api_clients.all().delete()
        owner.delete()
        operator.delete()
        if aggregator is not None:
            aggregator.delete()
        self.zone.delete()


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise CommandError("timed out waiting for the worker")
        time.sleep(0.01)


_STAGES = re.compile(
    r"activation (?P<id>\d+): plan v\d+ started_at=(?P<started_at>[\d.]+) plan_s=(?P<plan_s>[\d.]+) "
    r"store_s=(?P<store_s>[\d.]+) commit_s=(?P<commit_s>[-\d.]+) fanout_s=(?P<fanout_s>[\d.]+)"
)


def _stages(log_path: str, activation_pk: int) -> dict[str, float] | None:
    """The stage times the worker logged for this activation (see ``apps.dispatch.tasks``), or ``None`` yet."""
    with open(log_path) as handle:
        for match in _STAGES.finditer(handle.read()):
            if int(match["id"]) == activation_pk:
                return {k: float(v) for k, v in match.groupdict().items() if k != "id"}
    return None


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (Linux ``/proc``; 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            with open(f"/proc/{p}/task/{p}/children") as handle:
                todo.extend(int(c) for c in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


def _q(values: list[float], pct: float) -> float:
    return float(np.percentile(values, pct)) if values else float("nan")

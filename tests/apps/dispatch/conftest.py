"""Fixtures for dispatch: two active CAISO sites of owner A with deferrable batch work and a UPS battery, and an
activated peak-shaving event."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

from apps.accounts.principal import principal_for
from apps.assets.choices import EnrolmentStatus, WorkloadKind
from apps.core import clock
from apps.markets import services as markets
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.models import Activation
from apps.markets.rules import IntervalOffer
from apps.telemetry.services import datapoints_ingest
from tests.conftest import World
from tests.factories import BatteryFactory, SiteFactory, WorkloadClassFactory, ZoneSeriesFactory, zone

STEP = timedelta(minutes=15)


@pytest.fixture
def sites(world: World):  # type: ignore[no-untyped-def]
    made = []
    for name, capacity in (("DC A", 4000.0), ("DC B", 6000.0)):
        site = SiteFactory(
            owner=world.owner_a,
            name=name,
            enrolment_status=EnrolmentStatus.ACTIVE,
            it_capacity_kw=capacity,
            grid_import_limit_kw=1e6,
        )
        WorkloadClassFactory(
            site=site, name="inference", kind=WorkloadKind.INFERENCE, share_pct=40, max_delay_h=None
        )
        WorkloadClassFactory(site=site, name="batch", kind=WorkloadKind.BATCH, share_pct=40, max_delay_h=6)
        BatteryFactory(
            site=site,
            energy_capacity_kwh=1000,
            max_charge_kw=500,
            max_discharge_kw=500,
            soc_min_kwh=100,
            soc_max_kwh=1000,
            backup_reserve_kwh=200,
        )
        made.append(site)
    return made


def activate(world: World, kw: float, *, hours: int = 1) -> Activation:
    """An awarded CAISO event activated for ``kw`` from its start (the clock is moved there)."""
    program = program_from_template(
        operator=world.operator, zone=zone(), template=CATALOGUE["caiso-pdr-peak"]
    )
    operator = principal_for(world.users["operator"])
    start = clock.floor_to(clock.now() + timedelta(hours=4), timedelta(hours=1))
    event = markets.event_announce(
        principal=operator, program=program, start=start, end=start + timedelta(hours=hours), requested_kw=kw
    )
    offers = [IntervalOffer(start + i * STEP, start + (i + 1) * STEP, kw, 50) for i in range(4 * hours)]
    # Energy is cheaper during the event than after it, so the cost-optimal plan reduces exactly what is called
    # (with no prices at all, any larger reduction would cost the same and the optimum would be arbitrary).
    hours_index = pd.date_range(start - timedelta(hours=1), periods=24, freq="h")
    prices = np.where(hours_index < start + timedelta(hours=hours), 50.0, 100.0)
    datapoints_ingest(series=ZoneSeriesFactory(), rows=pd.Series(prices, index=hours_index))
    bid = markets.bid_save(event=event, bidder_id=world.aggregator.pk, offers=offers, submit=True)
    clock.replay_start(sim_start=start, speed=0)
    markets.award_post(
        principal=operator,
        event=event,
        bid=bid,
        clearing_price_per_mwh=100,
        intervals=[(o.start, kw) for o in offers],
    )
    return markets.activation_post(
        principal=operator, event=event, activation_id=f"a-{event.pk}", start=start, kw=kw
    )


@pytest.fixture
def activation(world: World, sites):  # type: ignore[no-untyped-def]
    act = activate(world, 1500)
    yield act
    clock.replay_stop()


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the default listen backlog of 5 drops concurrent connects (1 s SYN retry)


class Sink:
    """A local HTTP server recording webhook POSTs; ``fail_first`` answers 500 to that many requests first."""

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.fail_first = fail_first
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sink.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = 500 if sink.fail_first > 0 else 200
                sink.fail_first -= 1
                self.send_response(code)
                self.end_headers()
                self.wfile.write(json.dumps({"ok": code == 200}).encode())

            def log_message(self, *args: object) -> None:
                return

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():  # type: ignore[no-untyped-def]
    s = Sink()
    yield s
    s.close()

"""Seed a load-test database (run by run.py with ``manage.py shell``): one owner with N active sites, a telemetry
series per site, an ingestion API client, a site VEN with a registered ven and targeted OpenADR events.

Prints one JSON line: ``{"series": [ids], "ingest_token": "...", "ven_token": "..."}``.
"""

from __future__ import annotations

import json
import os

from apps.accounts.choices import ApiClientRole, OrganisationKind
from apps.accounts.services import access_token_issue, api_client_create, organisation_create
from apps.assets.models import Site
from apps.assets.services import site_credential_bind
from apps.core.models import MarketZone
from apps.core.services import market_zones_ensure
from apps.openadr import services as vtn
from apps.openadr.selectors import site_target
from apps.telemetry.services import timeseries_get_or_create

n_sites = int(os.environ.get("LOAD_SITES", "16"))
n_events = int(os.environ.get("LOAD_EVENTS", "20"))
market_zones_ensure()
zone = MarketZone.objects.get(pk="CAISO_NP15")
owner = organisation_create(name="Load owner", kind=OrganisationKind.SITE_OWNER, slug="load-owner")
organisation_create(name="Load aggregator", kind=OrganisationKind.AGGREGATOR, slug="load-agg")
sites = [
    Site.objects.create(
        owner=owner,
        name=f"Load DC {i}",
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
    for i in range(n_sites)
]
series = [
    timeseries_get_or_create(owner=site, quantity="site_power_kw", resolution="PT15M")[0].pk for site in sites
]
ingest = api_client_create(organisation=owner, role=ApiClientRole.ADMIN, name="meter gateway")
ven = api_client_create(organisation=owner, role=ApiClientRole.VEN, name="VEN 0")
site_credential_bind(api_client_id=ven.api_client.pk, site=sites[0])
vtn.ven_create(
    caller=None, data={"objectType": "BL_VEN_REQUEST", "clientID": ven.api_client.client_id, "venName": "v0"}
)
program = vtn.program_create(caller=None, data={"programName": "load"})
for i in range(n_events):
    vtn.event_create(
        caller=None,
        data={
            "programID": str(program.pk),
            "eventName": f"cap-{i}",
            "targets": [site_target(sites[0])],
            "payloadDescriptors": [
                {
                    "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                    "payloadType": "IMPORT_CAPACITY_LIMIT",
                    "units": "KW",
                }
            ],
            "intervalPeriod": {"start": f"2030-01-{1 + i % 28:02d}T12:00:00Z", "duration": "PT15M"},
            "intervals": [{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [800.0]}]}],
        },
    )


def token(creds):  # type: ignore[no-untyped-def]
    return access_token_issue(
        client_id=creds.api_client.client_id, client_secret=creds.client_secret
    ).access_token


print(json.dumps({"series": series, "ingest_token": token(ingest), "ven_token": token(ven)}))

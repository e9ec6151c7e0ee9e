"""Check a replay summary (CI): every required figure present, the product worked end to end, and its promises
held (issue 17): no deferred kWh ran after its deadline or waits past it at the end, and every settled event
delivered at least MIN_DELIVERED_OVER_AWARDED of its awarded energy."""

import json
import sys

REQUIRED = [
    "events",
    "bids",
    "awards",
    "activations",
    "setpoints",
    "delivered_kwh",
    "awarded_kwh",
    "mean_performance_factor",
    "revenue",
    "owner_payouts",
    "energy_cost",
    "baseline_energy_cost",
    "cost_savings_pct",
    "emissions_kg",
    "baseline_emissions_kg",
    "carbon_savings_pct",
    "currency",
    "sla_late_kwh",
    "waiting_past_deadline_kwh",
]
MIN_DELIVERED_OVER_AWARDED = 0.9

with open(sys.argv[1]) as handle:
    summary = json.load(handle)
missing = [key for key in REQUIRED if summary.get(key) is None]
problems = [f"missing {key}" for key in missing]
for key in ("events", "bids", "awards", "activations", "setpoints", "settled_events"):
    if not summary.get(key):
        problems.append(f"{key} is {summary.get(key)!r}, expected > 0")
if summary.get("baseline_energy_cost", 0) <= 0:
    problems.append("no baseline energy cost")
# Issue 17's SLA: no deferred kWh runs after its deadline, and none still waits past it at the end.
if (summary.get("sla_late_kwh") or 0) > 0:
    problems.append(
        f"sla_late_kwh is {summary['sla_late_kwh']} kWh ({summary.get('sla_late_jobs')} jobs): work ran after its "
        "deadline"
    )
if (summary.get("waiting_past_deadline_kwh") or 0) > 0:
    problems.append(
        f"waiting_past_deadline_kwh is {summary['waiting_past_deadline_kwh']} kWh: deferred work broke its deadline"
    )
print(f"SLA: {summary.get('sla_late_kwh')} kWh ran late ({summary.get('sla_late_jobs')} jobs)")
for event in summary.get("event_delivery", []):
    ratio = event.get("delivered_over_awarded")
    if ratio is not None and ratio < MIN_DELIVERED_OVER_AWARDED:
        problems.append(
            f"event {event['event']} ({event['program']}) delivered {ratio:.3f} of its awarded energy, "
            f"below {MIN_DELIVERED_OVER_AWARDED}"
        )
print(json.dumps(summary, indent=2))
if problems:
    print("replay summary check FAILED:", "; ".join(problems))
    sys.exit(1)
print("replay summary check passed")

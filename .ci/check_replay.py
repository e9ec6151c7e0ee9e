"""Check a replay summary (CI): every required figure present, and the product actually worked end to end."""

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
]

with open(sys.argv[1]) as handle:
    summary = json.load(handle)
missing = [key for key in REQUIRED if summary.get(key) is None]
problems = [f"missing {key}" for key in missing]
for key in ("events", "bids", "awards", "activations", "setpoints", "settled_events"):
    if not summary.get(key):
        problems.append(f"{key} is {summary.get(key)!r}, expected > 0")
if summary.get("baseline_energy_cost", 0) <= 0:
    problems.append("no baseline energy cost")
print(json.dumps(summary, indent=2))
if problems:
    print("replay summary check FAILED:", "; ".join(problems))
    sys.exit(1)
print("replay summary check passed")

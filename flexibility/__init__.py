"""Pure flexibility library: asset models, flexibility envelopes and LP scheduling.

Never imports Django, Celery or ``apps``: pandas/numpy in, pandas/numpy or dataclasses out.

Public API::

    flexibility.solve(problem) -> Result                 # cost-optimal schedule (one sparse LP, HiGHS)
    flexibility.plan_blocks(problem) -> [BlockSpec]      # the same solve, block by block, anywhere:
    flexibility.solve_block(spec) -> BlockResult         #   specs and results are JSON-able (to_json/from_json)
    flexibility.combine(problem, results) -> Result      #   exact commitment repair, same result as solve()
    flexibility.envelope(problem, durations=...) -> Envelope  # down/up flexibility per start and duration
    flexibility.sla_shortfalls(problem) -> [SlaShortfall]    # work that cannot meet its deadlines (pre-solve)
    flexibility.Problem.from_json(dict) / .to_json()
    flexibility.Result.from_json(dict) / .to_json()

CLI: ``python -m flexibility solve|envelope|bench``.

Modules: ``problem`` / ``result`` (dataclasses + JSON), ``arrays`` (dense per-site series), ``baseline``
(run-as-it-arrives baseline and cost accounting), ``model`` (sparse LP assembly), ``highs`` (HiGHS calls),
``decompose`` (exact block decomposition, commitment repair), ``blocks`` (the block API), ``constraints``
(the LP's constraint families), ``lp_inputs``, ``sites`` / ``market`` (problem dataclasses), ``envelope_fast``,
``green_accounting``, ``lp_parts`` / ``workload_rows`` / ``workload_fields`` (issue-17 workload constraints),
``sla`` (pre-solve deadline check), ``checks`` (infeasibility explanations), ``schedule`` (``solve``),
``envelope``, ``green`` (green contracts, hourly green ledger), ``synthetic`` (benchmark portfolios), ``economics`` (real-data year), ``bench``, ``cli``.
"""

from flexibility.blocks import BlockResult, BlockSpec, plan_blocks, solve_block
from flexibility.envelope import Envelope, envelope
from flexibility.errors import FlexibilityError, FlexibilityInfeasible, FlexibilityInputError
from flexibility.green import GreenContract, Ledger, ledger
from flexibility.problem import Battery, Commitment, Problem, Site, Workload, Zone
from flexibility.result import CommitmentResult, Migration, Result, SiteResult, WorkloadResult
from flexibility.schedule import combine, solve
from flexibility.sla import SlaShortfall, sla_shortfalls
from flexibility.workload_fields import QueuedWork

__all__ = [
    "Battery",
    "BlockResult",
    "BlockSpec",
    "Commitment",
    "CommitmentResult",
    "Envelope",
    "FlexibilityError",
    "FlexibilityInfeasible",
    "FlexibilityInputError",
    "GreenContract",
    "Ledger",
    "Migration",
    "Problem",
    "QueuedWork",
    "Result",
    "Site",
    "SiteResult",
    "SlaShortfall",
    "Workload",
    "WorkloadResult",
    "Zone",
    "combine",
    "envelope",
    "ledger",
    "plan_blocks",
    "sla_shortfalls",
    "solve",
    "solve_block",
]

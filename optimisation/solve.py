"""Solving the planning LP: HiGHS in-process (default, interior point for large LPs) or CBC.

The status is always checked and reported in words: "optimal", "time_limit", "infeasible",
"unbounded", "infeasible_or_unbounded", ... A time-limited solve is never reported as optimal.
Duals (``LpConstraint.pi``) come from in-process HiGHS and from COIN_CMD (not from HiGHS_CMD).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pulp

from optimisation.model import NO_BUDGET, PlanModel

log = logging.getLogger(__name__)

_STATUS = {
    pulp.LpSolveStatus.Optimal: "optimal",
    pulp.LpSolveStatus.TimeLimit: "time_limit",
    pulp.LpSolveStatus.Infeasible: "infeasible",
    pulp.LpSolveStatus.Unbounded: "unbounded",
    pulp.LpSolveStatus.Undefined: "infeasible_or_unbounded",
    pulp.LpSolveStatus.NotSolved: "not_solved",
    pulp.LpSolveStatus.IterationLimit: "iteration_limit",
    pulp.LpSolveStatus.MemoryLimit: "memory_limit",
    pulp.LpSolveStatus.Interrupted: "interrupted",
    pulp.LpSolveStatus.NumericalError: "numerical_error",
}


@dataclass
class SolveResult:
    status: str  # optimal | time_limit | infeasible | unbounded | ...
    has_solution: bool
    solve_seconds: float
    objective_eur: float | None
    solver: str

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


class SolveError(RuntimeError):
    """The solver returned no usable plan (infeasible, unbounded, no incumbent at the time limit)."""


class PlanHiGHS(pulp.HiGHS):
    """pulp.HiGHS with a fast hand-over for a PlanModel: the matrix goes to highspy straight from the
    CSR arrays the PuLP rows were built from (PuLP's generic path walks every non-zero in Python),
    row bounds are read from the PuLP constraints (so RHS edits such as the CO2 budget count), and
    values, reduced costs, duals and slacks go back into PuLP's Rust model in batch calls.
    For any other problem it behaves exactly like pulp.HiGHS."""

    def __init__(self, plan: PlanModel, **kwargs):
        super().__init__(**kwargs)
        self.plan = plan

    def _fast(self, lp: pulp.LpProblem) -> bool:
        m = self.plan
        if m is None or lp is not m.prob or m.matrix is None:
            return False
        rust = lp.toRustModel()  # counts straight from the Rust core (numConstraints() wraps every row)
        return rust.num_variables == len(m.matrix["obj"]) and rust.num_constraints == len(m.matrix["rhs"])

    def _row_bounds(self, lp: pulp.LpProblem) -> tuple[np.ndarray, np.ndarray]:
        import highspy

        mx, inf = self.plan.matrix, highspy.kHighsInf
        rhs = mx["rhs"].copy()
        for row in (*self.plan.budget_rows, self.plan.output_row):  # the rows the API edits
            if row is not None:
                rhs[row.id] = -row.constant
        sense = mx["sense"]
        lower = np.where(sense == "<=", -inf, rhs)
        upper = np.where(sense == ">=", inf, rhs)
        return lower.astype(float), upper.astype(float)

    def buildSolverModel(self, lp):
        if not self._fast(lp):
            return super().buildSolverModel(lp)
        import highspy

        mx, h = self.plan.matrix, lp.solverModel
        n = len(mx["obj"])
        upper = np.where(np.isinf(mx["col_ub"]), highspy.kHighsInf, mx["col_ub"])
        empty = np.zeros(0, dtype=np.int32)
        h.addCols(n, mx["obj"], mx["col_lb"], upper, 0, empty, empty, np.zeros(0))
        h.changeObjectiveOffset(lp.objective.constant)
        lower, upper = self._row_bounds(lp)
        h.addRows(len(lower), lower, upper, len(mx["value"]), mx["indptr"][:-1], mx["index"], mx["value"])
        idx = _integer_cols(self.plan)
        if len(idx):  # MILP mode: whole shifts (PuLP's own integrality path is bypassed by the fast hand-over)
            h.changeColsIntegrality(len(idx), idx, np.full(len(idx), highspy.HighsVarType.kInteger))
            h.setOptionValue("mip_rel_gap", self.plan.params.mip_gap_pct / 100.0)
            h.setOptionValue("solver", "choose")

    def findSolutionValues(self, lp):
        if not self._fast(lp):
            return super().findSolutionValues(lp)
        import highspy

        h = lp.solverModel
        status = h.getModelStatus()
        sol = h.getSolution()
        S, H = pulp.LpSolveStatus, highspy.HighsModelStatus
        mapped = {H.kOptimal: S.Optimal, H.kInfeasible: S.Infeasible, H.kUnbounded: S.Unbounded,
                  H.kUnboundedOrInfeasible: S.Undefined, H.kTimeLimit: S.TimeLimit,
                  H.kIterationLimit: S.IterationLimit, H.kInterrupt: S.Interrupted,
                  H.kMemoryLimit: S.MemoryLimit, H.kModelEmpty: S.NotSolved, H.kNotset: S.NotSolved,
                  H.kObjectiveBound: S.GapLimit, H.kObjectiveTarget: S.GapLimit,
                  H.kSolutionLimit: S.SolutionLimit}.get(status, S.Undefined)
        rust = lp.toRustModel()
        ids = range(self.plan.matrix["first_id"], self.plan.matrix["first_id"] + len(self.plan.matrix["obj"]))
        rust.set_variable_values(list(zip(ids, sol.col_value, strict=True)))
        rust.set_variable_djs(list(zip(ids, sol.col_dual, strict=True)))
        rows = range(len(self.plan.matrix["rhs"]))
        rust.set_constraint_pis(list(zip(rows, sol.row_dual, strict=True)))
        lower, upper = self._row_bounds(lp)
        activity = np.asarray(sol.row_value)
        self.plan.row_dual, self.plan.row_activity = np.asarray(sol.row_dual, float), activity.astype(float)
        # PuLP's convention: slack = rhs - activity for <= rows, activity - rhs otherwise
        slack = np.where(self.plan.matrix["sense"] == "<=", upper - activity, activity - lower)
        rust.set_constraint_slacks(list(zip(rows, slack.tolist(), strict=True)))
        stopped_early = (H.kObjectiveBound, H.kObjectiveTarget, H.kInterrupt, H.kTimeLimit, H.kIterationLimit,
                         H.kSolutionLimit, H.kMemoryLimit)
        has_solution = status == H.kOptimal or (status in stopped_early and bool(np.isfinite(h.getObjectiveValue())))
        return mapped, has_solution


def _integer_cols(model: PlanModel) -> np.ndarray:
    sh = model.shifts
    if model.params.operating_mode != "milp" or sh is None or sh.empty:
        return np.zeros(0, dtype=np.int32)
    return sh["col"].to_numpy(np.int32)


@contextmanager
def fixed_shifts(model: PlanModel):
    """Inside the block the in-process HiGHS model is the LP with the shifts fixed at their current values
    (continuous); afterwards their bounds and integrality are restored (values and duals stay the fixed LP's)."""
    import highspy

    h = model.prob.solverModel
    idx = _integer_cols(model)
    vals = np.round(np.asarray(h.getSolution().col_value)[idx])
    lo, up = model.matrix["col_lb"][idx], model.matrix["col_ub"][idx]
    h.changeColsIntegrality(len(idx), idx, np.full(len(idx), highspy.HighsVarType.kContinuous))
    h.changeColsBounds(len(idx), idx, vals, vals)
    h.setOptionValue("solver", "simplex")
    try:
        yield vals
    finally:
        h.changeColsBounds(len(idx), idx, lo, up)
        h.changeColsIntegrality(len(idx), idx, np.full(len(idx), highspy.HighsVarType.kInteger))


def fixed_lp_duals(model: PlanModel, solver) -> dict:
    """After a MILP run: record gap and bound, then fix the shifts at the incumbent, make them continuous and
    re-solve the LP (dual simplex) so that duals exist; they are conditional on the shift pattern. Integrality
    and bounds are restored afterwards (the values and duals stay those of the fixed LP, same objective)."""
    h = model.prob.solverModel
    info = h.getInfo()
    mip = {"mip_objective_eur": float(h.getObjectiveValue()), "mip_gap": float(info.mip_gap),
           "mip_bound_eur": float(info.mip_dual_bound), "mip_nodes": int(info.mip_node_count)}
    with fixed_shifts(model):
        h.run()
        solver.findSolutionValues(model.prob)
        mip["fixed_lp_objective_eur"] = float(h.getObjectiveValue())
    model.mip = mip
    return mip


def _set_integer(model: PlanModel, integer: bool) -> None:
    """Mark the shift columns integer (or continuous again) on the PuLP variables (CBC reads them from there)."""
    for i in _integer_cols(model).tolist():
        model.variables[i].cat = pulp.LpInteger if integer else pulp.LpContinuous


def cbc_fixed_lp_duals(model: PlanModel, stats: pulp.LpSolveStats) -> dict:
    """CBC counterpart of ``fixed_lp_duals``: after CBC's branch and bound, fix the shifts at the incumbent,
    re-solve the LP with CBC for duals (conditional on the shift pattern), then restore bounds and integrality.
    CBC through PuLP reports no dual bound: the gap is the limit CBC was given (``mip_gap_limit``)."""
    idx = _integer_cols(model)
    vars_ = [model.variables[i] for i in idx.tolist()]
    vals = [round(v.varValue or 0.0) for v in vars_]
    bounds = [(v.lowBound, v.upBound) for v in vars_]
    mip = {"mip_objective_eur": float(stats.objective), "mip_gap": None, "mip_gap_limit": model.params.mip_gap_pct
           / 100.0, "mip_bound_eur": stats.best_bound, "mip_nodes": stats.nodes}
    _set_integer(model, False)
    for v, val in zip(vars_, vals, strict=True):
        v.lowBound, v.upBound = val, val
    lp = model.prob.solve(pulp.COIN_CMD(msg=False, timeLimit=model.params.time_limit_s, threads=model.params.threads))
    mip["fixed_lp_objective_eur"] = float(lp.objective) if lp.objective is not None else None
    for v, (lo, up) in zip(vars_, bounds, strict=True):
        v.lowBound, v.upBound = lo, up
    model.mip = mip
    return mip


def make_solver(model: PlanModel, method: str | None = None) -> pulp.LpSolver:
    p = model.params
    if p.solver == "cbc":
        milp = len(_integer_cols(model)) > 0
        _set_integer(model, milp)  # MILP mode: whole shifts through CBC's branch and bound
        return pulp.COIN_CMD(msg=False, timeLimit=p.time_limit_s, threads=p.threads,
                             **({"gapRel": p.mip_gap_pct / 100.0} if milp else {}))
    return PlanHiGHS(model, msg=False, timeLimit=p.time_limit_s, threads=p.threads,
                     solver=method or p.highs_method)


def _status(stats: pulp.LpSolveStats) -> str:
    return _STATUS.get(stats.status, stats.status_str.lower())


def _primal_feasible(model: PlanModel, solver: pulp.LpSolver) -> bool:
    """PuLP counts any finite objective after an early stop as a solution; for HiGHS also require
    that the returned primal point is feasible (an interrupted interior point run is not)."""
    h = getattr(model.prob, "solverModel", None)
    if not isinstance(solver, pulp.HiGHS) or h is None:
        return True
    return int(h.getInfo().primal_solution_status) == 2  # kSolutionStatusFeasible


def solve(model: PlanModel, method: str | None = None) -> SolveResult:
    """Solve the model once (a fresh solver run); values and duals land on the PuLP variables/rows."""
    solver = make_solver(model, method)
    t0 = time.perf_counter()
    stats = model.prob.solve(solver)
    seconds = time.perf_counter() - t0
    has_solution = bool(stats.has_solution) and _primal_feasible(model, solver)
    res = SolveResult(status=_status(stats), has_solution=has_solution, solve_seconds=seconds,
                      objective_eur=stats.objective if has_solution else None, solver=solver.name)
    model._solver = solver  # type: ignore[attr-defined]
    if has_solution and len(_integer_cols(model)) and isinstance(solver, PlanHiGHS):
        fixed_lp_duals(model, solver)
    elif has_solution and len(_integer_cols(model)):  # CBC
        cbc_fixed_lp_duals(model, stats)
    log.info("%s: %s in %.2f s (objective %s)", solver.name, res.status, seconds, res.objective_eur)
    return res


def resolve_with_budget(model: PlanModel, budget_t) -> SolveResult:
    """Change the CO2 budget (a total split over the periods by weeks, a dict period -> t, or None) and
    re-solve. With in-process HiGHS the solver's model is kept: only the budget rows' bounds change and
    HiGHS restarts from the previous basis (dual simplex), no rebuild. Other solvers (CBC) re-solve the
    changed PuLP model from scratch."""
    model.set_co2_budget(budget_t)
    solver = getattr(model, "_solver", None)
    h = getattr(model.prob, "solverModel", None)
    if not isinstance(solver, pulp.HiGHS) or h is None:
        return solve(model)
    import highspy

    for row, upper in zip(model.budget_rows, model.budget_rhs(budget_t), strict=True):
        h.changeRowBounds(row.id, -highspy.kHighsInf, float(min(upper, NO_BUDGET)))
    h.setOptionValue("solver", "simplex")  # warm start from the basis of the previous solve
    t0 = time.perf_counter()
    h.run()
    status, has_solution = solver.findSolutionValues(model.prob)
    has_solution = bool(has_solution) and _primal_feasible(model, solver)
    obj = h.getObjectiveValue() if has_solution else None
    if has_solution and len(_integer_cols(model)):  # the run above was the MILP (integrality restored)
        obj = fixed_lp_duals(model, solver)["fixed_lp_objective_eur"]
    seconds = time.perf_counter() - t0
    return SolveResult(status=_STATUS.get(status, str(status)), has_solution=bool(has_solution),
                       solve_seconds=seconds, objective_eur=obj, solver=solver.name)

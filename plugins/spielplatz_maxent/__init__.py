"""Built-in solver plugin ``maxent``: the exact MWMRE (C)CE of the NES appendix, Section A.

Registration is cheap: nothing heavy is imported until the solver is used
(:mod:`spielplatz_maxent.solver`).
"""

from spielplatz import Option, hookimpl

#: The solver's options, declared once: the host checks and coerces them
#: (``spielplatz solvers`` lists them; docs/cli.md shows this table).
OPTIONS = (
    Option("prior", "array", None, "full-support target joint sigma_hat [A_1..A_N] (default "
           "uniform: maximum entropy; Python API)"),
    Option("mu", "float", 0.0, "weight of the welfare term mu W(a)"),
    Option("welfare", "any", None, "welfare W(a): an array [A_1..A_N] or a registered welfare "
           "function's name, e.g. egalitarian (default: sum of the payoffs)"),
    Option("epsilon", "floats", 0.0, "fixed epsilon, scalar or one per player (0: an exact "
           "(C)CE)"),
    Option("target_epsilon", "floats", None, "target eps_hat (scalar or per player): switches "
           "on the rho/eps_plus formulation, feasible for any target", nullable=True),
    Option("rho", "float", None, "weight of the distance to the target epsilon (default 10 / "
           "payoff range)", positive=True, nullable=True),
    Option("eps_plus", "floats", None, "upper bound eps+ of the target formulation (default "
           "payoff range + max(eps_hat, 0))", positive=True, nullable=True),
    Option("tol", "float", 1e-10, "stopping tolerance on the projected dual gradient, payoffs "
           "scaled to range 1", positive=True),
    Option("max_iter", "int", 200, "maximum Newton iterations per phase (a warm start, the "
           "restart from zero and the re-solve on the support each get it; the answer's "
           "iterations count them all)", minimum=1),
    Option("initial_duals", "array", None, "warm start: per-player duals in payoff units, the "
           "layout of extra['duals'] (Python API; e.g. a previous answer's or the nes "
           "network's)"),
    Option("fallback", "bool", True, "re-solve games the batched path does not certify on the "
           "exact single-game path", batch_only=True),
    Option("chunk", "int", None, "games advanced together by one compiled call (default: 32)",
           minimum=1, nullable=True, batch_only=True),
    Option("steps_per_round", "int", None, "Newton iterations per call before finished games "
           "leave the chunk (default: 4 for CE, 8 for CCE)", minimum=1, nullable=True,
           batch_only=True),
    Option("exact_zeros", "bool", False, "identify every zero: masses below 1e-9 that the "
           "batch's duals do not prove zero are proven positive (a CE playing them all), "
           "proven zero (a Farkas certificate) or decided by the support LP (8x8 CE: about "
           "0.03 s more per 500 games on two cores; needs fallback)", batch_only=True),
    Option("threads", "int", None, "host threads feeding the compiled function (default: "
           "one per CPU this process may use, at most 4)", minimum=1, nullable=True,
           batch_only=True),
)


@hookimpl
def register_solvers(register):
    register("maxent", "spielplatz_maxent.solver:MaxEntSolver",
             description="exact maximum-entropy / minimum-relative-entropy (C)CE with "
                         "welfare and target-epsilon terms (MWMRE dual, projected Newton, "
                         "float64); batched with JAX",
             concepts=("ce", "cce"), exact=True, default=True, options=OPTIONS)

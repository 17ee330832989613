"""Built-in solver plugin ``maxent``: the exact MWMRE (C)CE of the NES appendix, Section A.

Registration is cheap: nothing heavy is imported until the solver is used
(:mod:`spielplatz_maxent.solver`).
"""

from spielplatz import hookimpl

OPTIONS = {
    "prior": "full-support target joint sigma_hat [A_1..A_N] (default uniform: maximum entropy)",
    "mu": "weight of the welfare term mu W(a) (default 0)",
    "welfare": ("welfare W(a): an array [A_1..A_N] or a registered welfare function's name, "
                "e.g. egalitarian (default: sum of the payoffs)"),
    "epsilon": "fixed epsilon, scalar or one per player (default 0: an exact (C)CE)",
    "target_epsilon": "target eps_hat (scalar or per player): switches on the rho/eps_plus "
                      "formulation, feasible for any target",
    "rho": "weight of the distance to the target epsilon (default 10 / payoff range)",
    "eps_plus": "upper bound eps+ of the target formulation (default payoff range "
                "+ max(eps_hat, 0))",
    "tol": "stopping tolerance on the projected dual gradient, payoffs scaled to range 1 "
           "(default 1e-10)",
    "max_iter": "maximum Newton iterations (default 200)",
    "initial_duals": "warm start: per-player duals in payoff units, the layout of "
                     "extra['duals'] (Python API; e.g. a previous answer's or the nes network's)",
}


@hookimpl
def register_solvers(register):
    register("maxent", "spielplatz_maxent.solver:MaxEntSolver",
             description="exact maximum-entropy / minimum-relative-entropy (C)CE with "
                         "welfare and target-epsilon terms (MWMRE dual, projected Newton, "
                         "float64); batched with JAX",
             concepts=("ce", "cce"), exact=True, options=OPTIONS)

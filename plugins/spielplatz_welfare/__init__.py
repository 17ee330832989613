"""Built-in solver plugin ``welfare``: welfare-optimal (C)CE by linear programming.

Registration is cheap: nothing here imports numpy, scipy or highspy; the
solver lives in :mod:`spielplatz_welfare.solver` and is imported on first use.
"""

from spielplatz import hookimpl

#: Option name -> one-line help, shown by ``spielplatz solvers``; the solver
#: (:mod:`spielplatz_welfare.solver`) accepts exactly these keyword options.
OPTIONS = {
    "objective": "utilitarian | weighted | egalitarian | worst (default utilitarian); only "
                 "objectives a linear program can maximise, so not nash",
    "weights": "per-player weights for objective=weighted",
    "epsilon": "approximate (C)CE: deviation gains <= epsilon (scalar or per player)",
    "maxent_tiebreak": "true/false: return the maximum-entropy distribution among the "
                       "optimal ones (default false)",
    "summary": "true/false: add price of anarchy / stability to extra['efficiency'] "
               "(default false)",
}


@hookimpl
def register_solvers(register):
    register("welfare", "spielplatz_welfare.solver:WelfareSolver",
             description="exact welfare-optimal CE/CCE by linear programming (HiGHS): "
                         "utilitarian, weighted, egalitarian or worst welfare",
             concepts=("ce", "cce"), exact=True, options=dict(OPTIONS))

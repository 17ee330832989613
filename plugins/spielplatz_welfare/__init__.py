"""Built-in solver plugin ``welfare``: welfare-optimal (C)CE by linear programming.

Registration is cheap: nothing here imports numpy, scipy or highspy; the
solver lives in :mod:`spielplatz_welfare.solver` and is imported on first use.
"""

from spielplatz import Option, hookimpl

#: The solver's options, declared once: the host checks and coerces them
#: (``spielplatz solvers`` lists them; docs/cli.md shows this table).
OPTIONS = (
    Option("objective", "str", "utilitarian", "utilitarian | weighted | egalitarian | worst; "
           "only objectives a linear program can maximise, so not nash"),
    Option("weights", "floats", None, "per-player weights for objective=weighted",
           nullable=True),
    Option("epsilon", "floats", 0.0, "approximate (C)CE: deviation gains <= epsilon (scalar or "
           "per player)"),
    Option("maxent_tiebreak", "bool", False, "return the maximum-entropy distribution among "
           "the optimal ones"),
    Option("summary", "bool", False, "add price of anarchy / stability to "
           "extra['efficiency']"),
)


@hookimpl
def register_solvers(register):
    register("welfare", "spielplatz_welfare.solver:WelfareSolver",
             description="exact welfare-optimal CE/CCE by linear programming (HiGHS): "
                         "utilitarian, weighted, egalitarian or worst welfare",
             concepts=("ce", "cce"), exact=True, options=OPTIONS)

"""Built-in solver plugin ``welfare``: welfare-optimal (C)CE by linear programming.

Its objectives are the host's registered welfare functions of values that it can
maximise exactly (utilitarian, egalitarian, nash, kalai_smorodinsky) and its own
modes ``weighted`` and ``worst``.

Registration is cheap: nothing here imports numpy, scipy or highspy; the
solver lives in :mod:`spielplatz_welfare.solver` and is imported on first use.
"""

from spielplatz import Option, hookimpl

#: The solver's options, declared once: the host checks and coerces them
#: (``spielplatz solvers`` lists them; docs/cli.md shows this table).
OPTIONS = (
    Option("objective", "str", "utilitarian", "a registered welfare function of values: "
           "utilitarian, egalitarian, kalai_smorodinsky (LPs), nash (cutting planes, certified "
           "gap); or the modes weighted, worst. Welfares on trajectories (inequity_averse) "
           "and other plugins' functions are refused"),
    Option("weights", "floats", None, "per-player weights for objective=weighted",
           nullable=True),
    Option("disagreement", "floats", 0.0, "disagreement point d (scalar or per player) of "
           "egalitarian, nash and kalai_smorodinsky (gains v_i - d_i); utilitarian, weighted "
           "and worst ignore it"),
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
                         "utilitarian, egalitarian, Nash (cutting planes) or "
                         "Kalai-Smorodinsky welfare, weighted or worst",
             concepts=("ce", "cce"), exact=True, options=OPTIONS)

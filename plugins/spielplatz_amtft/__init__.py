"""Built-in learner plugin: amTFT(w) and amTFT(W) on iterated matrix games.

Normative disagreement, Sections 4.1 and 5.1, Appendix C.1. Built from exact parts, not
trained: the cooperative lottery optimal for each welfare function (exact maximisers over
the feasible payoffs), the punishment strategy minimising the opponent's best reply (an
LP), the debit without rollouts and the punishment length from an exact rollout of
length 20. ``-o W=util+ia`` gives amTFT(W); a single function gives amTFT(w). The policy
kind ``amtft`` (``policy.py``) lets the host play these agents against any other
(``spielplatz play``, ``spielplatz crossplay``). Registration imports nothing heavy.
"""

from spielplatz import Option, hookimpl

KINDS = ("iterated_matrix",)

OPTIONS = (
    Option("W", "str", "utilitarian", "welfare functions joined by '+', names or aliases "
           "(util, egal, nash, ks, ia): one is amTFT(w), several amTFT(W)"),
    Option("preference", "floats", None, "re-sampling (and starting) probabilities over W, "
           "in W's order (default: uniform)", nullable=True),
    Option("start", "choice", "sample", "first welfare function: sampled per seed from the "
           "preference, or the first of W", choices=("sample", "first")),
    Option("threshold", "float", 0.0, "debit above which a defection is detected",
           minimum=0.0),
    Option("alpha", "float", 2.0, "punish until the opponent lost alpha times the debit",
           positive=True),
    Option("rollout", "int", 20, "longest punishment and rollout length (C.1: 20)",
           minimum=1, maximum=100),
    Option("beta", "float", 1.0, "inequity aversion beta of the ia welfare (C.1)",
           minimum=0.0),
    Option("smoothing", "float", 1.0, "lambda of the ia welfare's smoothed rewards (C.1)",
           minimum=0.0, maximum=1.0),
    Option("horizon", "int", 100, "stages of the ia welfare's trajectories", minimum=1),
    Option("episodes", "int", 16, "self-play episodes logged per seed", minimum=1),
    Option("records", "int", 100, "stages recorded in the self-play log", minimum=1),
)


@hookimpl
def register_learners(register):
    register("amtft", "spielplatz_amtft.learner:AmtftLearner",
             description="amTFT(w) / amTFT(W): welfare-optimal cooperation, re-sampling w on "
                         "normative disagreement, debit and punishment (exact parts)",
             game_kinds=KINDS, options=OPTIONS)


@hookimpl
def register_policy_kinds(register):
    register("amtft", "spielplatz_amtft.policy:AMTFT",
             description="amTFT(W) agents: public schedules per welfare function, re-sampling, "
                         "debit and punishment")

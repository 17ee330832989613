"""Built-in learner plugin: LOLA (Foerster et al. 2018) and naive learners on iterated games.

* ``naive`` - gradient ascent of each player on its own exact value;
* ``lola`` - the LOLA update of normative disagreement Appendix C.1 on exact values
  (second-order terms by automatic differentiation), or with ``lookahead=k`` a k-step
  look-ahead that differentiates through k naive steps of the opponent;
* ``lola_dice`` - LOLA-DiCE: sampled episodes of the game's JAX environment, the DiCE
  estimator with a learned baseline, a differentiable look-ahead on the opponent; also
  on ``jax_environment`` games (the Coin Games) with network policies (``dice_env.py``).

``opponent`` pairs different learners: ``-o opponent=naive`` trains player 1 with this
learner and player 2 naively. Registration imports nothing heavy.
"""

from spielplatz import Option, hookimpl

KINDS = ("iterated_matrix",)

COMMON = (
    Option("lr", "float", 0.1, "delta: step size of each player's update", positive=True),
    Option("records", "int", 100, "records kept over training", minimum=1),
    Option("opponent", "choice", "self", "player 2's learner: the same ('self') or 'naive'",
           choices=("self", "naive")),
)
LOLA = (
    Option("lola_lr", "float", 1.0, "eta: the opponent's assumed step size (C.1)",
           minimum=0.0),
    Option("lookahead", "int", 0, "0: the C.1 update; k >= 1: differentiate through k naive "
           "steps of the opponent", minimum=0, maximum=20),
)
DICE = (
    Option("lr", "float", 0.1, "outer step size (after the look-ahead)", positive=True),
    Option("records", "int", 100, "records kept over training", minimum=1),
    Option("opponent", "choice", "self", "player 2's learner: the same ('self') or 'naive' "
           "(sampled policy gradient without look-ahead)", choices=("self", "naive")),
    Option("lola_lr", "float", 0.15, "inner (look-ahead) step size on the opponent",
           minimum=0.0),
    Option("lookahead", "int", 3, "look-ahead steps on the opponent", minimum=0, maximum=10),
    Option("init_scale", "float", 0.0, "standard deviation of the initial logits (0: "
           "uniform policies, as LOLA-DiCE starts)", minimum=0.0),
    Option("batch", "int", 128, "episodes per update", minimum=1),
    Option("horizon", "int", 150, "stages per episode", minimum=1),
    Option("baseline", "bool", True, "DiCE baseline term with a learned state value"),
    Option("lr_value", "float", 0.5, "step size of the state-value baseline (1: each batch's "
           "mean return per state)", positive=True, maximum=1.0),
    Option("hidden", "str", "64", "environments: widths of the policy network's hidden "
           "layers, comma-separated"),
    Option("gamma", "float", 0.96, "environments: discount of the DiCE objective (C.1: 0.96; "
           "iterated games use their own gamma)", minimum=0.0, maximum=0.9999),
)

#: Each learner's declared options.
OPTIONS = {"naive": COMMON, "lola": COMMON + LOLA, "lola_dice": DICE}


@hookimpl
def register_learners(register):
    register("naive", "spielplatz_lola.learners:NaiveLearner",
             description="naive learners: gradient ascent on their own exact value",
             game_kinds=KINDS, options=OPTIONS["naive"])
    register("lola", "spielplatz_lola.learners:LolaLearner",
             description="LOLA on exact values (C.1 update by autodiff, or k-step look-ahead)",
             game_kinds=KINDS, options=OPTIONS["lola"])
    register("lola_dice", "spielplatz_lola.learners:LolaDiceLearner",
             description="LOLA-DiCE: sampled episodes, DiCE estimator with baseline, "
                         "differentiable look-ahead",
             game_kinds=KINDS + ("jax_environment",), options=OPTIONS["lola_dice"])

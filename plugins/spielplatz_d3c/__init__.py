"""Built-in learner plugin: D3C (Gemp et al., AAMAS 2022) and its two baselines.

* ``d3c`` - agents learn to mix their losses with the others' (``f^A = A^T f``)
  by descending a local upper bound on the price of anarchy: exact gradients
  on differentiable games (Section 2.5, eqs. 9-11) and one-shot evolutionary
  estimates wrapped around REINFORCE on RL games (Algorithms 1-3);
* ``gd`` - selfish learners (``A = I``): simultaneous gradient descent, or
  REINFORCE on RL games;
* ``coop`` - fully cooperative learners (``A_ij = 1/n``).

Registration imports nothing heavy; :mod:`spielplatz_d3c.learners` (jax) is
loaded only when a learner is used.
"""

from spielplatz import Option, hookimpl

from . import defaults as _defaults

KINDS = ("differentiable", "normal_form", "rl_environment", "jax_environment")


def _option(name: str, kind: str, help: str, **checks) -> Option:
    """Declare ``name`` with its default(s) from :mod:`spielplatz_d3c.defaults` (one value,
    or one per game kind where exact-gradient and RL learning differ)."""
    found = {k: table[name] for k, table in (("differentiable", _defaults.EXACT),
                                              ("rl_environment", _defaults.RL),
                                              ("jax_environment", _defaults.AC))
             if name in table}
    values = list(found.values())
    same = len(found) > 1 and all(v == values[0] and type(v) is type(values[0])
                                  for v in values)
    return Option(name, kind, values[0] if same else found, help, **checks)


#: Hyper-parameters of the three learners, declared once (defaults per game kind:
#: ``differentiable`` also covers normal-form games; see docs/learners.md).
OPTIONS = (
    _option("a_ii", "float", "initial self-weight A_ii of the mixing matrix",
            minimum=0.0, maximum=1.0),
    _option("nu", "float", "coefficient of the KL term on the mixing weights", minimum=0.0),
    _option("lr", "float", "strategy step size (REINFORCE learning rate on RL games)",
            positive=True),
    _option("lr_mix", "float", "eta_A: step size of the mixing weights", positive=True),
    _option("epsilon", "float", "epsilon of eq. 11 (the ReLU's margin)"),
    _option("rho", "choice", "local price-of-anarchy bound: additive (eq. 11), log (eq. 93) "
            "or bound (eqs. 9-10, with mu_bar)", choices=("additive", "log", "bound")),
    _option("mu_bar", "float", "mu_bar of the 'bound' form", positive=True),
    _option("logit_min", "float", "lower clip l of the mixing logits (none: no clipping)",
            nullable=True),
    _option("logit_max", "float", "upper clip h of the mixing logits (none: no clipping)",
            nullable=True),
    _option("records", "int", "records kept over training", minimum=1),
    _option("divergence", "float", "a seed has diverged once some |f_i| exceeds this times "
            "its start (none: non-finite losses only)", positive=True, nullable=True),
    _option("delta", "float", "perturbation scale of Algorithm 1", positive=True),
    _option("tau_min", "int", "shortest trial (updates)", minimum=1),
    _option("tau_max", "int", "longest trial (updates)", minimum=1),
    _option("lr_value", "float", "TD learning rate of the linear baseline", positive=True),
    _option("batch", "int", "episodes per learner update", minimum=1),
    _option("trial_return", "choice", "return a trial tracks: mixed (r~_i of eq. 11) or own "
            "(r_i)", choices=("mixed", "own")),
    _option("init_scale", "float", "scale of the initial policy parameters", minimum=0.0),
    _option("envs", "int", "environments per seed of each A2C update (jax_environment games)",
            minimum=1),
    _option("unroll", "int", "steps per environment of each A2C update (Table 2: 100)",
            minimum=1),
)


@hookimpl
def register_learners(register):
    """Register ``d3c``, ``gd`` and ``coop`` (loaders are ``"module:attr"`` strings)."""
    register("d3c", "spielplatz_d3c.learners:D3CLearner",
             description="D3C: learn loss-mixing weights that lower a local price-of-anarchy "
                         "bound (exact gradients, or Alg. 1 around REINFORCE)",
             game_kinds=KINDS, options=OPTIONS)
    register("gd", "spielplatz_d3c.learners:SelfishLearner",
             description="selfish baseline: simultaneous gradient descent (REINFORCE on RL "
                         "games), A = I",
             game_kinds=KINDS, options=OPTIONS)
    register("coop", "spielplatz_d3c.learners:CooperativeLearner",
             description="cooperative baseline: every agent minimises the mean loss, "
                         "A_ij = 1/n",
             game_kinds=KINDS, options=OPTIONS)

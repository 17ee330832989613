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

from spielplatz import hookimpl

KINDS = ("differentiable", "normal_form", "rl_environment")


@hookimpl
def register_learners(register):
    """Register ``d3c``, ``gd`` and ``coop`` (loaders are ``"module:attr"`` strings)."""
    register("d3c", "spielplatz_d3c.learners:D3CLearner",
             description="D3C: learn loss-mixing weights that lower a local price-of-anarchy "
                         "bound (exact gradients, or Alg. 1 around REINFORCE)",
             game_kinds=KINDS)
    register("gd", "spielplatz_d3c.learners:SelfishLearner",
             description="selfish baseline: simultaneous gradient descent (REINFORCE on RL "
                         "games), A = I",
             game_kinds=KINDS)
    register("coop", "spielplatz_d3c.learners:CooperativeLearner",
             description="cooperative baseline: every agent minimises the mean loss, "
                         "A_ij = 1/n",
             game_kinds=KINDS)

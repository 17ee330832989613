"""Built-in learner plugin: A2C with V-trace for functional JAX environments.

D3C paper, Appendix G.1, Table 2 (the defaults): an actor-critic per player (an MLP, a
conv torso for ``[C, H, W]`` observations, an optional LSTM core), many environments
and seeds at once, V-trace targets (rlax), RMSProp (optax). Rewards can be reshaped:
selfish, total (cooperative), punish (minimise the others' rewards), a welfare function
of each step's rewards, or a mixing matrix ``A``. Trains ``jax_environment`` games (the
Coin Games) and iterated matrix games (as environments of ``horizon`` stages). The
machinery lives in the host (:mod:`spielplatz.learning.actor_critic`); the policy kind
``a2c`` lets ``spielplatz play`` / ``crossplay`` use the trained agents. Registration
imports nothing heavy.
"""

from spielplatz import Option, hookimpl

KINDS = ("jax_environment", "iterated_matrix")

OPTIONS = (
    Option("reward", "str", "selfish", "what each player learns: selfish, total (sum of "
           "rewards), punish (minus the others' rewards) or a welfare function of values "
           "(utilitarian, egalitarian, nash, aliases); one per player joined by ';'"),
    Option("mixing", "array", None, "N x N matrix A, player i learns sum_j A_ij r_j "
           "(replaces reward; D3C's A transposed)", nullable=True),
    Option("d", "floats", None, "disagreement point of a welfare reward (default 0)",
           nullable=True),
    Option("envs", "int", 16, "environments per seed", minimum=1),
    Option("unroll", "int", 100, "unroll length n per update (Table 2)", minimum=1),
    Option("discount", "float", 0.98, "discount gamma (Table 2)", minimum=0.0, maximum=1.0),
    Option("lr", "float", 4e-4, "RMSProp learning rate (Table 2)", positive=True),
    Option("entropy_cost", "float", 0.003, "entropy regularization (Table 2)", minimum=0.0),
    Option("baseline_cost", "float", 0.5, "baseline loss scaling (Table 2)", minimum=0.0),
    Option("rms_decay", "float", 0.99, "RMSProp decay (Table 2)", minimum=0.0, maximum=1.0),
    Option("rms_epsilon", "float", 1e-5, "RMSProp epsilon (Table 2)", positive=True),
    Option("rms_momentum", "float", 0.0, "RMSProp momentum (Table 2)", minimum=0.0,
           maximum=1.0),
    Option("hidden", "str", "64,64", "MLP widths, comma-separated ('' for none)"),
    Option("channels", "str", "16", "conv channels (3x3) for [C,H,W] observations, "
           "comma-separated ('' for none)"),
    Option("lstm", "int", 0, "LSTM core features (0: none)", minimum=0),
    Option("vtrace_lambda", "float", 1.0, "V-trace lambda", minimum=0.0, maximum=1.0),
    Option("clip_rho", "float", 1.0, "V-trace rho-bar (importance weight clip)",
           positive=True),
    Option("clip_pg_rho", "float", 1.0, "policy-gradient rho-bar", positive=True),
    Option("max_grad_norm", "float", 0.0, "clip each player's gradient norm (0: none)",
           minimum=0.0),
    Option("horizon", "int", 100, "stages per episode of an iterated matrix game "
           "(jax_environment games have their own)", minimum=1),
    Option("records", "int", 100, "records kept over training", minimum=1),
)


@hookimpl
def register_learners(register):
    register("a2c", "spielplatz_a2c.learner:A2CLearner",
             description="A2C with V-trace (D3C Table 2): a network per player, many "
                         "environments and seeds at once, reshaped rewards (selfish, total, "
                         "punish, welfare, mixing matrix)",
             game_kinds=KINDS, options=OPTIONS)


@hookimpl
def register_policy_kinds(register):
    register("a2c", "spielplatz_a2c.policy:A2C",
             description="actor-critic networks (MLP / conv torso, optional LSTM) rebuilt "
                         "from their parameters' shapes")

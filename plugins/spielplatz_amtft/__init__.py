"""Built-in learner plugin: amTFT(w) and amTFT(W) on iterated matrix games and on
``jax_environment`` games (the Coin Games).

Normative disagreement, Sections 4.1 and 5.1, Appendix C.1. Built from exact parts, not
trained: the cooperative lottery optimal for each welfare function (exact maximisers over
the feasible payoffs), the punishment strategy minimising the opponent's best reply (an
LP), the debit without rollouts and the punishment length from an exact rollout of
length 20. ``-o W=util+ia`` gives amTFT(W); a single function gives amTFT(w). The policy
kind ``amtft`` (``policy.py``) lets the host play these agents against any other
(``spielplatz play``, ``spielplatz crossplay``). On environments the parts are trained
with the host's A2C (``learner_env.py``) and the agents are of the kind ``amtft_net``
(``policy_env.py``). Registration imports nothing heavy.
"""

from spielplatz import Option, hookimpl

KINDS = ("iterated_matrix", "jax_environment")

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
    Option("episodes", "int", 16, "self-play episodes logged per seed (environments: also "
           "the rollouts estimating the punishment's loss)", minimum=1),
    Option("gamma", "float", 0.96, "environments: discount of the ia welfare and of the "
           "punishment length (C.1: 0.96; iterated games use their own gamma)",
           minimum=0.0, maximum=0.9999),
    Option("lr", "float", 3e-3, "environments: A2C RMSProp learning rate of every trained "
           "part", positive=True),
    Option("unroll", "int", 10, "environments: A2C unroll length", minimum=1),
    Option("envs", "int", 16, "environments: A2C environments per seed", minimum=1),
    Option("coop", "choice", "pair", "environments: the cooperative profile per welfare "
           "function: an A2C pair (one network per seat) or one joint-action network, a "
           "correlated profile each seat plays its part of through a public draw from the "
           "board (needs players who see the whole board)", choices=("pair", "joint")),
    Option("symmetrize", "bool", False, "environments, coop=joint: play each joint profile "
           "averaged over the game's symmetries (rotations, reflections, translations of "
           "the board), so that independently trained profiles share their conventions "
           "(docs/learners.md)"),
    Option("coop_temperature", "float", 1.0, "environments, coop=joint: the temperature "
           "the joint profile is drawn at (its log-probabilities divided by it; below 1 "
           "sharpens it towards its most likely joint actions, so that two independently "
           "trained profiles draw the same joint action more often; 0.25 on abcg, "
           "docs/learners.md)", positive=True),
    Option("ia_warm_start", "bool", False, "environments, coop=joint: the inequity-averse "
           "joint profile starts from the seed's utilitarian one (trained first, coop_steps "
           "updates) and trains ia_steps more on C.1's welfare, instead of from scratch "
           "(where it can settle on the disagreement coins; docs/learners.md)"),
    Option("coop_steps", "int", None, "environments: A2C updates of the cooperative "
           "profiles (default: steps, which then counts the punishment and selfish parts)",
           minimum=1, nullable=True),
    Option("ia_steps", "int", None, "environments: A2C updates of the inequity-averse "
           "cooperative profile, from scratch or after its warm start (ia_warm_start; "
           "default: coop_steps)", minimum=1, nullable=True),
    Option("coop_entropy", "float", 0.003, "environments: A2C entropy cost of the "
           "cooperative profiles (the other parts keep D3C's Table 2 value, 0.003; 0.1 for "
           "coop=joint on abcg, docs/learners.md)", minimum=0.0),
    Option("coop_discount", "float", 0.98, "environments: A2C discount of the cooperative "
           "profiles (the other parts keep D3C's Table 2 value, 0.98; C.1's 0.96 for "
           "coop=joint on abcg)", minimum=0.0, maximum=0.9999),
    Option("debit", "choice", "own_loss", "environments: what the debit compares between "
           "the actual and the simulated cooperative action (C.1 does not say whose rewards): "
           "the agent's one-step loss, the opponent's one-step gain, or the welfare's loss "
           "(one step's welfare plus the cooperative critic's value of the next state) "
           "(iterated games: the opponent's gain)",
           choices=("own_loss", "opponent_gain", "welfare_value")),
    Option("records", "int", 100, "stages recorded in the self-play log", minimum=1),
)


@hookimpl
def register_learners(register):
    register("amtft", "spielplatz_amtft.learner:AmtftLearner",
             description="amTFT(w) / amTFT(W): welfare-optimal cooperation, re-sampling w on "
                         "normative disagreement, debit and punishment (exact parts on "
                         "iterated games, A2C-trained parts on environments)",
             game_kinds=KINDS, options=OPTIONS)


@hookimpl
def register_policy_kinds(register):
    register("amtft", "spielplatz_amtft.policy:AMTFT",
             description="amTFT(W) agents: public schedules per welfare function, re-sampling, "
                         "debit and punishment")
    register("amtft_net", "spielplatz_amtft.policy_env:AMTFT_NET",
             description="amTFT(W) on environments: trained cooperative and punishment "
                         "networks, debit by simulating the opponent's cooperative action")

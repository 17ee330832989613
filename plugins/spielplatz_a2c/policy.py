"""The ``a2c`` policy kind: a saved actor-critic agent, ``{"net": flax params, "seat"}``.

The network is rebuilt from the parameters' shapes
(:func:`spielplatz.learning.networks.architecture`); the state is the LSTM carry.
"""

from spielplatz.learning.agents import PolicyKind
from spielplatz.learning.networks import policy_act, policy_init

__all__ = ["A2C"]

A2C = PolicyKind("a2c", policy_init, policy_act,
                 "actor-critic networks rebuilt from their parameters' shapes; the state is "
                 "the LSTM carry")

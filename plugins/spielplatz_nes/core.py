"""Model configuration, the batched dual loss and inference (shared by training and solving).

The loss and the primal recovery are the host's :mod:`spielplatz.equilibria.mwmre`
(Theorems 1-2), vmapped over the batch; this module only wires the network's
duals into them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from spielplatz.equilibria import deviations, mwmre

from . import parameterizations as pz
from .config import MAX_CHANNELS, ModelConfig, TrainConfig, _channels, parse_shape  # noqa: F401
from .network import NESNetwork

__all__ = ["ModelConfig", "TrainConfig", "make_network", "init_variables", "batch_loss",
           "batch_joint", "apply_network", "parse_shape"]


def make_network(cfg: ModelConfig) -> NESNetwork:
    return NESNetwork(concept=cfg.concept, payoff_channels=cfg.payoff_channels,
                      dual_channels=cfg.dual_channels, dual_layers=cfg.dual_layers,
                      full_payoff_pooling=cfg.full_payoff_pooling,
                      aligned_action_pooling=cfg.aligned_action_pooling)


def init_variables(cfg: ModelConfig, key: jax.Array) -> dict:
    """Fresh ``{"params", "batch_stats"}``.

    D.1 initialises weights so that every layer's activations have unit
    variance (found empirically); BatchNorm after every layer gives exactly
    that at initialisation in training mode, so the default initialisers are kept.
    """
    net = make_network(cfg)
    x = jnp.zeros((2, len(cfg.shape)) + cfg.shape + (pz.input_channels(cfg.param),), jnp.float32)
    return dict(net.init(key, x, train=False))


def apply_network(cfg: ModelConfig, variables: dict, problem: dict, train: bool = False):
    """Duals for a batch of (scaled) problems; with ``train`` also the new batch statistics."""
    net = make_network(cfg)
    x = pz.features(problem, cfg.param)
    if train:
        return net.apply(variables, x, train=True, mutable=["batch_stats"])
    return net.apply(variables, x, train=False)


def _one_loss(cfg: ModelConfig, payoffs, duals, log_prior, welfare, target_epsilon):
    terms = pz.loss_terms(cfg.param, cfg.shape)
    rho = cfg.rho if cfg.rho is not None else terms["rho"]
    return mwmre.loss(payoffs, duals, cfg.concept, target_epsilon=target_epsilon,
                      eps_plus=terms["eps_plus"], rho=rho, log_prior=log_prior,
                      welfare=welfare, mu=terms["mu"])


def batch_loss(cfg: ModelConfig, problem: dict, duals: list) -> jax.Array:
    """Theorem 1/2 dual loss of every game in the batch, ``[B]``.

    Computed by :func:`spielplatz.equilibria.mwmre.loss`, vmapped.
    """
    return jax.vmap(lambda g, d, lp, w, e: _one_loss(cfg, g, d, lp, w, e))(
        problem["payoffs"], duals, problem["log_prior"], problem["welfare"],
        problem["target_epsilon"])


def batch_joint(cfg: ModelConfig, problem: dict, duals: list) -> jax.Array:
    """Primal recovery (Theorems 1-2, :func:`spielplatz.equilibria.mwmre.joint`), ``[B, A...]``."""
    mu = cfg.param.mu
    return jax.vmap(lambda g, d, lp, w: mwmre.joint(g, d, cfg.concept, log_prior=lp,
                                                    welfare=w, mu=mu))(
        problem["payoffs"], duals, problem["log_prior"], problem["welfare"])


def batch_gap(cfg: ModelConfig, payoffs: jax.Array, joint: jax.Array) -> jax.Array:
    """(C)CE gap of each game, ``[B]``, in the payoffs' units."""
    return jax.vmap(lambda g, s: deviations.gap(g, s, cfg.concept))(payoffs, joint)

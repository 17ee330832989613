"""LOLA and naive updates on exact values (normative disagreement, Appendix C.1).

Everything is a pure JAX function of the game (a
:class:`~spielplatz.learning.iterated.IteratedMatrixGame`, or any object with
``values(params) -> [2]``) and both players' parameters; the second-order terms are
automatic derivatives, never derived by hand.

For player ``i`` with parameters ``mine`` and opponent parameters ``other``:

* naive: ``theta_i += delta grad_i V_i``;
* LOLA (C.1): ``theta_i += delta grad_i V_i + delta eta (grad_{-i} V_i)^T
  grad_i grad_{-i} V_{-i}``, the last term as ``grad_i`` of ``<stop_gradient(grad_{-i}
  V_i), grad_{-i} V_{-i}>``;
* k-step look-ahead: the opponent takes ``k`` naive steps of size ``eta`` from
  ``other`` (each one a function of ``mine``), and ``theta_i += delta grad_i
  V_i(mine, other_k)``, differentiating through all ``k`` steps.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["value", "naive_gradient", "lola_gradient", "lookahead_path",
           "lookahead_gradient", "update"]


def value(game: Any, me: int, mine: Any, other: Any) -> Any:
    """``V_me`` with player ``me``'s parameters ``mine`` and the opponent's ``other``."""
    params = (mine, other) if me == 0 else (other, mine)
    return game.values(params)[me]


def naive_gradient(game: Any, me: int, mine: Any, other: Any) -> Any:
    """``grad_mine V_me``."""
    return jax.grad(lambda m: value(game, me, m, other))(mine)


def lola_gradient(game: Any, me: int, mine: Any, other: Any, eta: float) -> Any:
    """``grad_i V_i + eta (grad_{-i} V_i)^T grad_i grad_{-i} V_{-i}`` (C.1 over delta)."""
    towards = jax.lax.stop_gradient(jax.grad(lambda o: value(game, me, mine, o))(other))

    def coupling(m: Any) -> Any:
        opponent_gradient = jax.grad(lambda o: value(game, 1 - me, o, m))(other)
        return jnp.vdot(towards, opponent_gradient)

    return naive_gradient(game, me, mine, other) + eta * jax.grad(coupling)(mine)


def lookahead_path(game: Any, me: int, mine: Any, other: Any, eta: float, k: int) -> list:
    """The opponent's parameters after ``0, 1, ..., k`` naive steps of size ``eta``
    against ``mine`` (each a differentiable function of ``mine``)."""
    path = [other]
    for _ in range(int(k)):
        current = path[-1]
        path.append(current + eta * jax.grad(lambda o: value(game, 1 - me, o, mine))(current))
    return path


def lookahead_gradient(game: Any, me: int, mine: Any, other: Any, eta: float, k: int) -> Any:
    """``grad_mine V_me(mine, other_k)`` through the ``k`` look-ahead steps."""
    return jax.grad(lambda m: value(game, me, m,
                                    lookahead_path(game, me, m, other, eta, k)[-1]))(mine)


def update(kind: str, game: Any, me: int, mine: Any, other: Any, *, lr: float,
           lola_lr: float, lookahead: int) -> Any:
    """One step of player ``me``: ``kind`` is ``naive`` or ``lola``."""
    if kind == "naive":
        step = naive_gradient(game, me, mine, other)
    elif lookahead:
        step = lookahead_gradient(game, me, mine, other, lola_lr, lookahead)
    else:
        step = lola_gradient(game, me, mine, other, lola_lr)
    return mine + lr * step

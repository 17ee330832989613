"""Welfare functions: the host's registry objects and its own built-ins.

Normative disagreement, Appendix A (Table 2) and Appendix C.1. A
:class:`WelfareFunction` says what it is defined on (``"values"``: per-player values
``[..., N]``; ``"trajectories"``: per-step rewards ``[..., T, N]``), whether it is
impartial (invariant to permuting the players) and which reference points it needs
(the disagreement values ``d`` and, for Kalai-Smorodinsky, the ideal point). Every
value-based function takes ``disagreement`` (``d``, default 0) and, where needed,
``ideal``; a plain function registered by a plugin is wrapped as a value-based one.

Built-ins (registered like any plugin's):

* ``utilitarian``: ``sum_i V_i`` (Harsanyi; ``d`` shifts it by a constant);
* ``egalitarian``: ``min_i (V_i - d_i)`` (Kalai 1977);
* ``nash``: ``prod_i max(V_i - d_i, 0)`` (Nash 1950), relative to ``d``: the product of
  the gains over disagreement, zero where some player is not above its disagreement
  value (the product of raw values would rank two losses as a gain);
* ``kalai_smorodinsky``: ``min_i (V_i - d_i) / (I_i - d_i)`` with the ideal point
  ``I_i = sup V_i``. Table 2 writes it as the distance of the gains' ratio to the ideal
  ratio on the Pareto frontier; maximising this form selects the same point there (the
  Pareto point on the segment from ``d`` to ``I``) and is defined everywhere;
* ``inequity_averse`` (C.1, on trajectories): ``sum_i R_i - beta E[|e_1^t - e_2^t|]`` with
  smoothed cumulative rewards ``e_i^t = gamma lambda e_i^{t-1} + r_i^t``, where
  ``R_i = sum_t gamma^t r_i^t``, the penalty averaged over the steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from spielplatz.errors import SpielplatzError
from spielplatz.plugins.hookspecs import hookimpl

__all__ = ["WelfareFunction", "as_welfare_function", "registered_welfare_function", "welfare_set",
           "ALIASES", "utilitarian", "egalitarian", "nash",
           "kalai_smorodinsky", "inequity_averse", "DEFINED_ON"]

DEFINED_ON = ("values", "trajectories")


def array_module(x: Any) -> Any:
    """numpy or jax.numpy for ``x``, imported when a welfare is computed: this module is
    the host's core plugin, loaded at every start, and listings must not import numpy."""
    from spielplatz.equilibria.deviations import array_module as module_of

    return module_of(x)


def _gains(values: Any, disagreement: Any) -> Any:
    return values if disagreement is None else values - disagreement


def utilitarian(values: Any, disagreement: Any = None) -> Any:
    """``sum_i V_i`` (``d`` subtracted, which only shifts it)."""
    return _gains(values, disagreement).sum(axis=-1)


def egalitarian(values: Any, disagreement: Any = None) -> Any:
    """``min_i (V_i - d_i)``."""
    return _gains(values, disagreement).min(axis=-1)


def nash(values: Any, disagreement: Any = None) -> Any:
    """``prod_i max(V_i - d_i, 0)``."""
    xp = array_module(values)
    return xp.maximum(_gains(values, disagreement), 0.0).prod(axis=-1)


def kalai_smorodinsky(values: Any, disagreement: Any = None, ideal: Any = None) -> Any:
    """``min_i (V_i - d_i) / (I_i - d_i)`` (needs the ideal point ``I``)."""
    if ideal is None:
        raise SpielplatzError("the kalai_smorodinsky welfare needs the ideal point (each "
                              "player's best feasible value)")
    xp = array_module(values)
    d = 0.0 if disagreement is None else disagreement
    span = xp.asarray(ideal) - d
    if bool((span <= 0).any()):
        raise SpielplatzError("kalai_smorodinsky: every player's ideal value must exceed its "
                              "disagreement value")
    return ((values - d) / span).min(axis=-1)


def inequity_averse(rewards: Any, *, gamma: float = 0.96, smoothing: float = 1.0,
                    beta: float = 1.0) -> Any:
    """C.1's inequity-averse welfare of reward trajectories ``[..., T, 2]``, ``[...]``.

    C.1 states neither ``lambda`` nor ``beta``; the defaults ``lambda = 1`` (``e_i`` is the
    discounted cumulative reward) and ``beta = 1`` make it select ``(2, 2)`` over ``(4, 1)``
    in the iterated asymmetric BoS, as Sections 4-5 report.
    """
    xp = array_module(rewards)
    steps = rewards.shape[-2]
    decay = gamma * smoothing
    discount = gamma ** xp.arange(steps)
    returns = (rewards * discount[:, None]).sum(axis=-2).sum(axis=-1)
    # e^t = decay e^{t-1} + r^t, as a discounted cumulative sum
    weights = decay ** (xp.arange(steps)[:, None] - xp.arange(steps)[None, :])
    mask = xp.arange(steps)[:, None] >= xp.arange(steps)[None, :]
    smoothed = xp.einsum("ts,...sn->...tn", xp.where(mask, weights, 0.0), rewards)
    penalty = xp.abs(smoothed[..., 0] - smoothed[..., 1]).mean(axis=-1)
    return returns - beta * penalty


@dataclass(frozen=True)
class WelfareFunction:
    """A registered welfare function and what it needs.

    Attributes
    ----------
    name : str
    function : callable
        ``values`` case: ``function(values [..., N], disagreement=None[, ideal=None])``;
        ``trajectories`` case: ``function(rewards [..., T, N], **params)``.
    defined_on : {"values", "trajectories"}
    impartial : bool or None
        Invariant to permuting the players (``None``: not declared).
    needs : tuple of str
        Reference points it needs besides ``disagreement``, e.g. ``("ideal",)``.
    description : str
    """

    name: str
    function: Callable = field(repr=False)
    defined_on: str = "values"
    impartial: bool | None = None
    needs: tuple = ()
    description: str = ""

    def __call__(self, values: Any, disagreement: Any = None, **points: Any) -> Any:
        """Welfare of ``values`` ``[..., N]`` (value-based functions only)."""
        if self.defined_on != "values":
            raise SpielplatzError(f"welfare function {self.name!r} is defined on trajectories "
                                  f"(per-step rewards), not on values; use .of_trajectories")
        missing = [p for p in self.needs if points.get(p) is None]
        if missing:
            raise SpielplatzError(f"welfare function {self.name!r} needs {', '.join(missing)}")
        return self.function(values, disagreement, **{p: points[p] for p in self.needs})

    def of_trajectories(self, rewards: Any, **params: Any) -> Any:
        """Welfare of reward trajectories ``[..., T, N]`` (trajectory-based functions)."""
        if self.defined_on != "trajectories":
            raise SpielplatzError(f"welfare function {self.name!r} is defined on values")
        return self.function(rewards, **params)

    def to_dict(self) -> dict:
        return {"name": self.name, "defined_on": self.defined_on, "impartial": self.impartial,
                "needs": list(self.needs), "description": self.description}


def as_welfare_function(name: str, target: Any, meta: dict | None = None) -> WelfareFunction:
    """``target`` (a :class:`WelfareFunction`, or a plain function of values registered with
    optional metadata ``defined_on``, ``impartial``, ``needs``) as a :class:`WelfareFunction`."""
    if isinstance(target, WelfareFunction):
        return target
    meta = meta or {}
    plain = meta.get("defined_on", "values") == "values" and not meta.get("needs")

    def function(values: Any, disagreement: Any = None, **points: Any) -> Any:
        # a plugin's plain function of values: d subtracted first
        return target(values if disagreement is None else values - disagreement, **points)

    return WelfareFunction(name, function if plain else target,
                           defined_on=meta.get("defined_on", "values"),
                           impartial=meta.get("impartial"), needs=tuple(meta.get("needs", ())),
                           description=meta.get("description", ""))


#: Short names of the built-ins (the paper's ``util``, ``ia``, ...).
ALIASES = {"util": "utilitarian", "egal": "egalitarian", "ia": "inequity_averse",
           "ks": "kalai_smorodinsky"}


def registered_welfare_function(name: str) -> WelfareFunction:
    """The welfare function registered as ``name`` or one of its :data:`ALIASES` (unknown
    names: one line with close matches)."""
    from spielplatz.plugins.host import get_host

    name = ALIASES.get(name, name)
    entry = get_host().registry("welfare").get(name)
    return as_welfare_function(name, entry.load(),
                               {"description": entry.description, **entry.meta})


def welfare_set(spec: Any, what: str = "W") -> tuple:
    """A set of welfare functions from ``"util+ia"`` (names or aliases joined by ``+``) or
    a list of names, in the given order.

    Raises
    ------
    SpielplatzError
        An empty set, a name given twice or an unknown name (one line each).
    """
    names = spec.split("+") if isinstance(spec, str) else list(spec or ())
    names = [str(n).strip() for n in names]
    if not names or any(not n for n in names):
        raise SpielplatzError(f"{what} is empty: name at least one welfare function "
                              f"(e.g. {what}=util+ia)")
    functions = tuple(registered_welfare_function(n) for n in names)
    seen = [f.name for f in functions]
    twice = sorted({n for n in seen if seen.count(n) > 1})
    if twice:
        raise SpielplatzError(f"{what} names {', '.join(twice)} twice")
    return functions


@hookimpl
def register_welfare_functions(register):
    for fn, impartial, needs, text in (
            (utilitarian, True, (), "sum of the players' values"),
            (egalitarian, True, (), "value of the worst-off player, relative to d"),
            (nash, True, (), "product of the players' gains over d (zero below d)"),
            (kalai_smorodinsky, True, ("ideal",), "smallest gain over d relative to the "
             "ideal point's (needs the ideal point)")):
        register(fn.__name__, WelfareFunction(fn.__name__, fn, "values", impartial, needs, text),
                 description=text, defined_on="values", impartial=impartial, needs=needs)
    register("inequity_averse",
             WelfareFunction("inequity_averse", inequity_averse, "trajectories", True, (),
                             "returns minus beta times the mean |e_1 - e_2| of smoothed "
                             "cumulative rewards (C.1; on trajectories)"),
             description="returns minus beta times the mean |e_1 - e_2| of smoothed "
                         "cumulative rewards (C.1; on trajectories)",
             defined_on="trajectories", impartial=True)

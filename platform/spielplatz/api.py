"""The Python API: load games, solve them, train learners.

>>> import spielplatz as sp
>>> game = sp.load_game("chicken")
>>> ev = sp.evaluate(game, [[0.5, 0.25], [0.25, 0.0]], concept="ce")
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .errors import GameError, OptionError, PluginError, SpielplatzError
from .plugins import get_host
from .registry import Catalog

__all__ = ["load_game", "solve", "audit_solution", "solve_batch", "learn", "evaluate", "get_solver",
           "get_learner", "get_welfare_function", "is_game_file"]


def is_game_file(spec: str) -> bool:
    """Whether ``spec`` names a game file rather than a registered game."""
    return spec.lower().endswith((".nfg", ".json")) or (
        ("/" in spec or "\\" in spec) and "(" not in spec) or Path(spec).is_file()


def load_game(spec: Any, **params: Any) -> Any:
    """Load a game by name, game string, file path, pyspiel game or payoff array.

    Parameters
    ----------
    spec : str or pyspiel.Game or NormalFormGame or array_like
        ``"chicken"``, ``"blotto(coins=4,fields=3)"``, ``"games/pd.nfg"``, a
        pyspiel game, or payoffs ``[N, A_1, ..., A_N]``.
    **params
        Parameters added to (and overriding) those in the game string.

    Returns
    -------
    NormalFormGame or a learner game (see :mod:`spielplatz.learning`)

    Raises
    ------
    UnknownNameError
        For an unknown name (with close matches).
    GameError
        For bad parameters, files or payoffs.
    """
    from .normal_form import NormalFormGame

    if isinstance(spec, NormalFormGame):
        return spec
    if not isinstance(spec, str):
        if type(spec).__module__ == "pyspiel":
            return NormalFormGame.from_pyspiel(spec)
        if isinstance(spec, (list, tuple)) or hasattr(spec, "__array__"):
            return NormalFormGame.from_array(spec)
        return spec  # a learner game object (see spielplatz.learning), used as it is
    spec = spec.strip()
    if is_game_file(spec):
        from .files import read_game_file

        return read_game_file(spec)
    from .gamestring import format_game_string, parse_game_string

    name, parsed = parse_game_string(spec)
    parsed.update(params)
    entry = get_host().registry("game").get(name)
    loader = entry.load()
    full = format_game_string(name, parsed)
    if isinstance(entry, Catalog):
        game = loader(full, parsed)
    else:
        _check_params(entry, name, parsed)
        try:
            game = loader(**parsed)
        except OptionError as exc:              # a bad parameter value: name the game
            raise GameError(f"game {full!r}: {exc}") from None
        except SpielplatzError:
            raise
        except (TypeError, ValueError) as exc:
            raise GameError(f"game {full!r}: {exc}") from None
    if type(game).__module__ == "pyspiel":
        game = NormalFormGame.from_pyspiel(game, name=full)
    return game


def _check_params(entry: Any, name: str, params: dict) -> None:
    """Refuse parameters the game did not register (``parameters=``; None: not declared)."""
    declared = entry.meta.get("parameters")
    if declared is None:
        return
    allowed = list(declared)
    unknown = [k for k in params if k not in allowed]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        hint += f"; it takes {', '.join(allowed)}" if allowed else "; it takes no parameters"
        raise GameError(f"game {name!r} has no parameter {unknown[0]!r}{hint}")


def _solver_entry(name: str, concept: str) -> tuple[Any, str]:
    """The registry entry of solver ``name`` and the checked ``concept``, one it solves."""
    from .deviations import _check_concept

    concept = _check_concept(concept)
    entry = get_host().registry("solver").get(name)
    concepts = entry.meta.get("concepts", ("ce", "cce"))
    if concept not in concepts:
        raise OptionError(f"solver {name!r} does not solve {concept} (it solves "
                          f"{', '.join(concepts)})")
    return entry, concept


def check_options(kind: str, name: str, options: dict, *, batch: bool = False) -> dict:
    """``options`` of solver or learner ``name`` checked against its declared options
    (:mod:`spielplatz.options`): unknown names refused with a close match, values
    coerced to their declared types. ``-o`` and the Python API both go through it."""
    from .options import coerce_options

    entry = get_host().registry(kind).get(name)
    owner = f"the {name} {kind}" + ("'s batches" if batch else "")
    return coerce_options(entry.meta.get("options"), options, owner, batch=batch)


class _CheckedLearner:
    """A learner whose ``learn`` gets checked options and a game of a registered kind."""

    def __init__(self, impl: Any, entry: Any):
        self._impl, self._entry = impl, entry

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._impl, attr)

    def learn(self, game: Any, *args: Any, **options: Any) -> Any:
        from .learning import game_kind

        kinds = self._entry.meta.get("game_kinds") or ()
        try:
            kind = game_kind(game)
        except TypeError:
            kind = None                           # the learner says what it refuses
        if kinds and kind is not None and kind not in kinds:
            raise GameError(f"learner {self._entry.name!r} does not train {kind} games "
                            f"(it trains {', '.join(kinds)})")
        passed = {k: options.pop(k) for k in ("steps", "seeds", "seed", "progress")
                  if k in options}
        options = check_options("learner", self._entry.name, options)
        return self._impl.learn(game, *args, **passed, **options)


def call_plugin(kind: str, name: str, plugin: str, fn: Any) -> Any:
    """Run plugin code (a lazy import, a solve, a training) the way the host loads plugins.

    Its stdout goes to stderr (``--json`` stays parseable); anything it raises
    other than a :class:`SpielplatzError` (the user's to fix) or a Ctrl-C the
    user really typed, ``SystemExit`` and ``KeyboardInterrupt`` included, becomes
    one :class:`PluginError` that names the plugin.
    """
    from .plugins import _Guard

    guard = _Guard()
    try:
        with guard.running():
            return fn()
    except SpielplatzError:
        raise
    except BaseException as exc:  # noqa: BLE001 - the plugin boundary
        guard.check(exc)
        if isinstance(exc, MemoryError):
            raise PluginError(f"{kind} {name!r} (plugin {plugin!r}) ran out of memory; "
                              f"try a smaller game or SPIELPLATZ_MEMORY_LIMIT") from None
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise PluginError(f"{kind} {name!r} (plugin {plugin!r}) failed: "
                          f"{type(exc).__name__}{': ' + detail if detail else ''}") from exc


def _instantiate(entry: Any, kind: str = "object") -> Any:
    def make() -> Any:
        obj = entry.load()
        return obj() if inspect.isclass(obj) else obj

    return call_plugin(kind, entry.name, entry.plugin, make)


def get_solver(name: str) -> Any:
    """The solver object registered as ``name``."""
    return _instantiate(get_host().registry("solver").get(name), "solver")


def get_learner(name: str) -> Any:
    """The learner object registered as ``name``; its ``learn`` checks the options and the
    game's kind against the registration (``options``, ``game_kinds``) first."""
    entry = get_host().registry("learner").get(name)
    return _CheckedLearner(_instantiate(entry, "learner"), entry)


def get_welfare_function(name: str) -> Any:
    """The welfare function registered as ``name`` (values ``[..., N]`` -> ``[...]``)."""
    return get_host().registry("welfare").get(name).load()


def solve(game: Any, solver: str = "maxent", concept: str = "ce", **options: Any) -> Any:
    """Solve ``game`` for a (coarse) correlated equilibrium.

    Parameters
    ----------
    game : anything :func:`load_game` accepts
    solver : str
        A registered solver (``spielplatz solvers`` lists them).
    concept : {"ce", "cce"}
    **options
        Passed to the solver, after the host's check against its declared options
        (unknown names refused, values coerced to their declared types).

    Returns
    -------
    Solution
        As the solver returned it, after the host's own check
        (:func:`audit_solution`): ``extra["certificate"]`` says whether the
        joint is a (C)CE within ``1e-8`` of the payoff range, decided rigorously
        (:mod:`spielplatz.certificate`); an answer the solver called
        ``optimal`` that fails it is not passed on as ``optimal``.
    """
    entry, concept = _solver_entry(solver, concept)
    options = check_options("solver", solver, options)
    game = load_game(game)
    impl = _instantiate(entry, "solver")
    sol = call_plugin("solver", solver, entry.plugin,
                      lambda: impl.solve(game, concept=concept, **options))
    return audit_solution(sol, game, concept, solver=solver, plugin=entry.plugin,
                          exact=bool(entry.meta.get("exact", False)))


def audit_solution(sol: Any, game: Any, concept: str, *, solver: str, plugin: str,
                   exact: bool) -> Any:
    """The host's check of a solver's answer: measured, certified, never over-labelled.

    The joint must be a finite distribution of the game's shape; its gap is
    certified against the epsilon the solver was asked for
    (``extra["epsilon_required"]``, else ``config["epsilon"]``, else 0). An answer
    labelled ``optimal`` that fails is marked ``failed`` (exact solvers) or
    ``approximate`` (the others), with a :class:`SolverWarning` naming the plugin.
    """
    import dataclasses
    import warnings

    import numpy as np

    from .certificate import certify
    from .errors import SolverWarning
    from .results import Solution

    if not isinstance(sol, Solution):
        raise PluginError(f"solver {solver!r} (plugin {plugin!r}) returned "
                          f"{type(sol).__name__}, not a Solution")
    joint = np.asarray(sol.joint, dtype=float)
    if joint.shape != tuple(game.shape):
        raise PluginError(f"solver {solver!r} (plugin {plugin!r}) returned a joint of shape "
                          f"{joint.shape} for a game of shape {tuple(game.shape)}")
    eps = sol.extra.get("epsilon_required", sol.config.get("epsilon", 0.0))
    try:
        eps = np.broadcast_to(np.asarray(eps, dtype=float), (game.num_players,))
    except (TypeError, ValueError):
        eps = np.zeros(game.num_players)
    cert = certify(game.payoffs, joint, concept, epsilon=eps)
    extra = dict(sol.extra)
    extra["certificate"] = cert.to_dict()
    status = sol.status
    if status not in ("optimal", "approximate", "infeasible", "iteration_limit", "failed"):
        extra["reported_status"] = str(status)
        status = "failed"
        extra.setdefault("message", f"unknown status {sol.status!r} from the solver")
    if sol.solver and sol.solver != solver:
        extra["reported_solver"] = sol.solver
    if not cert.finite:
        status = "failed"
        extra.setdefault("message", "the joint is not a finite probability distribution")
    if status == "optimal" and not cert.certified:
        status = "failed" if exact else "approximate"
        warnings.warn(
            f"solver {solver!r} (plugin {plugin!r}) labelled an answer optimal whose "
            f"largest deviation gain exceeds the allowed epsilon by {cert.violation:.3e} "
            f"(tolerance {cert.tolerance:.3e}); marked {status}", SolverWarning, stacklevel=3)
    if not cert.finite:
        return dataclasses.replace(sol, solver=solver, status=status, extra=extra)
    # every reported measure is the host's own, whatever the plugin filled in
    return Solution.from_joint(game, joint, concept, solver=solver,
                               config=sol.config, status=status, iterations=sol.iterations,
                               wall_time=sol.wall_time, objective=sol.objective, extra=extra)


def solve_batch(payoffs: Any, solver: str = "maxent", concept: str = "ce", **options: Any) -> Any:
    """Solve many games of one shape, ``payoffs`` ``[B, N, A_1, ..., A_N]``, at once."""
    from .protocols import BatchSolver

    entry, concept = _solver_entry(solver, concept)
    impl = _instantiate(entry, "solver")
    if not isinstance(impl, BatchSolver):
        raise SpielplatzError(f"solver {solver!r} does not solve batches")
    options = check_options("solver", solver, options, batch=True)
    return call_plugin("solver", solver, entry.plugin,
                       lambda: impl.solve_batch(payoffs, concept=concept, **options))


def learn(game: Any, learner: str, *, steps: int, seeds: Any = (0,), **options: Any) -> Any:
    """Train ``learner`` on ``game`` and return its :class:`~spielplatz.Run`."""
    if isinstance(seeds, int):
        seeds = (seeds,)
    entry = get_host().registry("learner").get(learner)
    impl = _CheckedLearner(_instantiate(entry, "learner"), entry)
    loaded = load_game(game)
    return call_plugin("learner", learner, entry.plugin,
                       lambda: impl.learn(loaded, steps=steps, seeds=tuple(seeds), **options))


def evaluate(game: Any, joint: Any, concept: str = "ce") -> Any:
    """Measure a joint distribution on ``game``; see :class:`~spielplatz.Evaluation`."""
    from .deviations import _check_concept
    from .files import validate_joint
    from .results import evaluate as _evaluate

    game = load_game(game)
    return _evaluate(game, validate_joint(joint, game), _check_concept(concept))

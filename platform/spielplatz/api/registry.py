"""Plugins through the host: look up solvers, learners and welfare functions, check
their options against the registration, and call their code under the host's guard."""

from __future__ import annotations

import inspect
from typing import Any

from spielplatz.errors import GameError, OptionError, PluginError, SpielplatzError
from spielplatz.plugins.host import get_host

__all__ = ["get_solver", "get_learner", "get_welfare_function", "default_solver",
           "exact_solvers", "check_options", "call_plugin"]


def solver_entry(name: str, concept: str) -> tuple[Any, str]:
    """The registry entry of solver ``name`` and the checked ``concept``, one it solves."""
    from spielplatz.equilibria.deviations import check_concept

    concept = check_concept(concept)
    entry = get_host().registry("solver").get(name)
    concepts = entry.meta.get("concepts", ("ce", "cce"))
    if concept not in concepts:
        raise OptionError(f"solver {name!r} does not solve {concept} (it solves "
                          f"{', '.join(concepts)})")
    return entry, concept


def check_options(kind: str, name: str, options: dict, *, batch: bool = False) -> dict:
    """``options`` of solver or learner ``name`` checked against its declared options
    (:mod:`spielplatz.plugins.options`): unknown names refused with a close match, values
    coerced to their declared types. ``-o`` and the Python API both go through it."""
    from spielplatz.plugins.options import coerce_options

    entry = get_host().registry(kind).get(name)
    owner = f"the {name} {kind}" + ("'s batches" if batch else "")
    return coerce_options(entry.meta.get("options"), options, owner, batch=batch)


class CheckedLearner:
    """A learner whose ``learn`` gets checked options and a game of a registered kind."""

    def __init__(self, impl: Any, entry: Any):
        self._impl, self._entry = impl, entry

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._impl, attr)

    def declared(self, member: str, run: Any, default: Any) -> Any:
        """``learner.<member>(run)`` (a display method: ``report_lines``,
        ``table_columns``, ``json_summary``) under the host's guard, if the learner
        declares it; else ``default``."""
        method = getattr(self._impl, member, None)
        if not callable(method):
            return default
        return call_plugin("learner", self._entry.name, self._entry.plugin, lambda: method(run))

    def learn(self, game: Any, *args: Any, **options: Any) -> Any:
        from spielplatz.learning.games import game_kinds

        kinds = self._entry.meta.get("game_kinds") or ()
        followed = game_kinds(game)              # empty: the learner says what it refuses
        if kinds and followed and not set(followed) & set(kinds):
            raise GameError(f"learner {self._entry.name!r} does not train {followed[0]} games "
                            f"(it trains {', '.join(kinds)})")
        passed = {k: options.pop(k) for k in ("steps", "seeds", "seed", "progress")
                  if k in options}
        if "seed" in passed and "seeds" in passed:
            raise OptionError("give seeds or seed, not both")
        if "seed" in passed:        # seed=S is seeds=(S,), whatever the learner reads
            passed["seeds"] = (passed.pop("seed"),)
        if "seeds" in passed:       # one seed, a range or a sequence; distinct
            from spielplatz.validation import as_seeds

            passed["seeds"] = as_seeds(passed["seeds"])
        if "steps" in passed:       # 2.9 steps is not 2; a scan's length is a 32-bit int
            from spielplatz.validation import as_int

            passed["steps"] = as_int(passed["steps"], "steps", minimum=1, maximum=2**31 - 1)
        options = check_options("learner", self._entry.name, options)
        entry = self._entry
        run = call_plugin("learner", entry.name, entry.plugin,
                          lambda: self._impl.learn(game, *args, **passed, **options))
        return audit_run(run, entry, passed.get("seeds"))


def audit_run(run: Any, entry: Any, seeds: Any = None) -> Any:
    """A learner's answer checked by the host: a :class:`~spielplatz.Run` with one row per
    seed asked for and metrics ``[seeds, records, ...]``, else a :class:`PluginError`
    naming the plugin (the run is never shown half-formed)."""
    import numpy as np

    from spielplatz.results import Run

    who = f"learner {entry.name!r} (plugin {entry.plugin!r})"
    if not isinstance(run, Run):
        raise PluginError(f"{who} returned a {type(run).__name__}, not a spielplatz.Run")
    if seeds is not None and len(run.seeds) != len(seeds):      # seeds: as_seeds' tuple
        raise PluginError(f"{who} returned {len(run.seeds)} seeds for the {len(seeds)} "
                          f"asked for")
    shape = (len(run.seeds), len(np.atleast_1d(run.steps)))
    for key, value in run.metrics.items():
        got = np.shape(value)[:2]
        if got != shape:
            raise PluginError(f"{who} returned metric {key!r} of shape {np.shape(value)}, not "
                              f"[{shape[0]} seeds, {shape[1]} records, ...]")
    return run


def call_plugin(kind: str, name: str, plugin: str, fn: Any) -> Any:
    """Run plugin code (a lazy import, a solve, a training) the way the host loads plugins.

    Its stdout goes to stderr (``--json`` stays parseable); anything it raises
    other than a :class:`SpielplatzError` (the user's to fix) or a Ctrl-C the
    user really typed, ``SystemExit`` and ``KeyboardInterrupt`` included, becomes
    one :class:`PluginError` that names the plugin.
    """
    from spielplatz.plugins.isolation import Guard

    guard = Guard()
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


def instantiate(entry: Any, kind: str = "object") -> Any:
    return call_plugin(kind, entry.name, entry.plugin, lambda: make(entry))


def make(entry: Any) -> Any:
    """The registered object (a class is instantiated); plugin code: call it inside
    :func:`call_plugin` (:func:`instantiate` does)."""
    obj = entry.load()
    return obj() if inspect.isclass(obj) else obj


def get_solver(name: str) -> Any:
    """The solver object registered as ``name``."""
    return instantiate(get_host().registry("solver").get(name), "solver")


def default_solver() -> str:
    """The solver used when none is named: the first registered with ``default=True``
    (built-ins register first), else the only installed solver.

    Raises
    ------
    SpielplatzError
        Neither applies; the message lists the installed solvers.
    """
    entries = list(get_host().registry("solver").entries())
    for entry in entries:
        if entry.meta.get("default"):
            return entry.name
    if len(entries) == 1:
        return entries[0].name
    names = ", ".join(e.name for e in entries) or "none"
    raise SpielplatzError(f"no default solver is installed; name one (installed: {names})")


def exact_solvers() -> list[str]:
    """The installed exact solvers (registered ``exact=True``), the default first."""
    names = [e.name for e in get_host().registry("solver").entries() if e.meta.get("exact")]
    try:
        first = default_solver()
    except SpielplatzError:
        return names
    return sorted(names, key=lambda n: n != first)


def get_learner(name: str) -> Any:
    """The learner object registered as ``name``; its ``learn`` checks the options and the
    game's kind against the registration (``options``, ``game_kinds``) first."""
    entry = get_host().registry("learner").get(name)
    return CheckedLearner(instantiate(entry, "learner"), entry)


def get_welfare_function(name: str) -> Any:
    """The welfare function registered as ``name``: a
    :class:`~spielplatz.equilibria.welfare_functions.WelfareFunction` (values ``[..., N]``
    -> ``[...]``, with ``disagreement=`` and the reference points it ``needs``; or
    ``.of_trajectories(rewards)`` for one defined on trajectories)."""
    from spielplatz.equilibria.welfare_functions import registered_welfare_function

    return registered_welfare_function(name)

"""Every hook of the Spielplatz host.

A plugin is a module (or object) holding functions decorated with
:data:`hookimpl`. It is found through the ``spielplatz`` entry-point group,
exactly like the built-in plugins under ``plugins/`` and ``games/``.

All registration hooks are *callback style*: the host passes a ``register``
function and the plugin calls it once per thing it provides. Registration must
be cheap: pass a dotted ``"module:attribute"`` path (or a small callable) as
the loader so that heavy imports (jax, scipy, ...) happen only when the thing
is used.

The docstring of every hook is reference documentation; ``docs/plugins.md``
repeats each signature and a test checks that both exist.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("spielplatz")
hookimpl = pluggy.HookimplMarker("spielplatz")

__all__ = ["hookspec", "hookimpl", "HOOK_NAMES"]


@hookspec
def register_games(register):
    """Register games.

    Parameters
    ----------
    register : callable
        ``register(name, loader, *, description="", parameters=None, tags=())``
        adds one game. ``loader`` is a callable, or a ``"module:attr"`` string
        naming one, taking the game's parameters as keyword arguments and
        returning a :class:`spielplatz.NormalFormGame` (or, for learners, an
        object following one of the protocols in :mod:`spielplatz.learning.games`).
        ``parameters`` maps parameter names to their defaults (shown by
        ``spielplatz games``); :func:`spielplatz.load_game` refuses any other
        parameter (``None``: not declared, passed to the loader unchecked).

        ``register.catalog(name, names, loader, *, description="")`` adds a
        *catalog*: a family of games whose names are only listed on demand
        (``names`` is a callable returning an iterable of names, ``loader``
        takes the game's full name and its parameters). Explicitly registered
        names take precedence over catalog names.

    Examples
    --------
    >>> @hookimpl
    ... def register_games(register):
    ...     register("my_game", "my_pkg.games:load", description="A 2x2 game")
    """


@hookspec
def register_solvers(register):
    """Register (coarse) correlated equilibrium solvers.

    Parameters
    ----------
    register : callable
        ``register(name, loader, *, description="", concepts=("ce", "cce"),
        exact=True, default=False, options=None)``; ``default=True`` makes it the
        solver used when none is named (the first such registration wins). ``loader`` is a callable or ``"module:attr"`` string
        that returns a solver object: anything with a method
        ``solve(game, concept="ce", **options) -> spielplatz.Solution``
        (see :class:`spielplatz.plugins.protocols.Solver`). ``options`` declares the
        solver's options, a tuple of :class:`spielplatz.Option`: the host refuses
        unknown names, coerces values to their types and refuses a concept not in
        ``concepts`` before calling ``solve`` (``None``: options passed unchecked).
    """


@hookspec
def register_learners(register):
    """Register multi-agent learners.

    Parameters
    ----------
    register : callable
        ``register(name, loader, *, description="", game_kinds=(), options=None)``.
        ``loader`` returns a learner object with a method
        ``learn(game, *, steps, seeds, **options) -> spielplatz.Run``
        (see :class:`spielplatz.plugins.protocols.Learner`). ``game_kinds`` names the
        game protocols of :mod:`spielplatz.learning.games` the learner accepts (the
        host refuses other games); ``options`` declares its hyper-parameters as
        for solvers.
    """


@hookspec
def register_welfare_functions(register):
    """Register welfare functions.

    Parameters
    ----------
    register : callable
        ``register(name, function, *, description="")``. ``function`` maps a
        vector of per-player values (shape ``[N]``, numpy or jax) to a scalar
        welfare, e.g. utilitarian ``values.sum()``.
    """


@hookspec
def register_policy_kinds(register):
    """Register kinds of trained policies that the host can play.

    Parameters
    ----------
    register : callable
        ``register(name, loader, *, description="")``. ``loader`` returns a
        :class:`spielplatz.learning.agents.PolicyKind`: a pair of pure JAX functions
        ``init(params, key) -> state`` and ``act(params, state, obs, key) -> (action,
        state)``. A learner whose runs hold ``agents`` of this kind can then be played
        by ``spielplatz play`` and ``spielplatz crossplay`` against any other agent;
        ``params`` is one agent's parameters (an array or a dict of arrays; every
        agent of a kind should have the same shapes, so that many pairs play at once).
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``spielplatz`` command line.

    Parameters
    ----------
    cli : click.Group
        The top-level group. Add commands with ``@cli.command()``. Called
        after the built-in commands exist; a command name that is already
        taken is reported as a collision and the new command is skipped.
    """


HOOK_NAMES = (
    "register_games",
    "register_solvers",
    "register_learners",
    "register_welfare_functions",
    "register_policy_kinds",
    "register_commands",
)

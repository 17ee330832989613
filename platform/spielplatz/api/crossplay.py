"""Cross-play through the host: agent specs, training, scoring, and the game of norms.

``crossplay(game, ["LEARNER(W=util)", "LEARNER(W=ia)", "runs/x_run.json"], seeds=5)``
trains (or loads) each family, plays the full seed matrix in both seat orders
(:func:`spielplatz.learning.crossplay.cross_play`) and, with ``solve=``, solves the
family table as a normal-form game between the principals who choose what to deploy
(normative disagreement, Section 5: the meta-game of norms).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from spielplatz.api.games import load_game
from spielplatz.api.learning import learn, load_run
from spielplatz.errors import GameError, SpielplatzError

__all__ = ["crossplay", "parse_agent_spec", "meta_game"]


def parse_agent_spec(spec: str) -> tuple[str, dict]:
    """``"name(W=util+ia,alpha=3)"`` -> ``("name", {"W": "util+ia", "alpha": 3})``."""
    from spielplatz.games.gamestring import parse_game_string

    try:
        return parse_game_string(str(spec).strip(), what="spec")
    except GameError as exc:
        raise SpielplatzError(f"agent spec {spec!r}: {exc}") from None


def _is_run_path(spec: str) -> bool:
    return spec.endswith(".json") or Path(spec).is_dir() or Path(spec).is_file()


def _family(spec: Any, game: Any, seeds: tuple, steps: int) -> tuple:
    if hasattr(spec, "metrics"):
        return f"{spec.learner} run", spec
    text = str(spec)
    if _is_run_path(text):
        return Path(text).name, load_run(text)
    name, options = parse_agent_spec(text)
    return text, learn(game, name, steps=steps, seeds=seeds, **options)


def meta_game(result: Any) -> Any:
    """The family table of a cross-play as a 2-player normal-form game: principal 1
    picks the seat-1 family, principal 2 the seat-2 family; payoffs are the mean
    cross-play values of independently built agents."""
    import numpy as np

    from spielplatz.games.normal_form import NormalFormGame

    labels = tuple(result.table["families"])
    return NormalFormGame(np.asarray(result.table["values"], dtype=float),
                          name=f"norms on {result.game}",
                          player_names=("principal 1", "principal 2"),
                          action_names=(labels, labels))


def crossplay(game: Any, agents: Sequence[Any], *, seeds: Any = 3, first_seed: int = 0,
              steps: int = 2000, episodes: int = 32, horizon: int = 100, seed: int = 0,
              welfare: Any = None, disagreement: Any = None, confidence: float = 0.95,
              solve: str | None = None, concept: str = "ce", min_selfplay: Any = None,
              **solver_options: Any) -> Any:
    """Cross-play of agent families on ``game``.

    Parameters
    ----------
    agents : sequence
        Each a learner spec ``"name(option=value,...)"`` (trained here on ``seeds``), a
        saved run (``*_run.json`` or its folder) or a :class:`~spielplatz.Run`.
    seeds : int or sequence of int
        Seeds of the learner specs (an int ``K``: ``first_seed .. first_seed + K - 1``).
    welfare : str or sequence, optional
        The score's welfare set W (``"util+ia"``); default: the agents' declared ones.
    disagreement : sequence of float, optional
        The disagreement profile; default: each player's pure security level (on an
        environment such as the Coin Games: ``(0, 0)``, Appendix B.2).
    horizon : int
        Stages per episode of an iterated game (an environment plays its own length).
    solve : str, optional
        A solver: solve the meta-game of norms for ``concept`` (result's ``meta``).
    min_selfplay : float, optional
        Discard (and list, with their scores) the seeds whose self-play NormalizedScore
        is below this; their cells leave the groups, the table and the bound.

    Returns
    -------
    spielplatz.learning.crossplay.CrossPlay
    """
    from spielplatz.api.solving import solve as solve_game
    from spielplatz.learning.crossplay import cross_play
    from spielplatz.validation import as_float, as_int, as_seed

    if not agents:
        raise SpielplatzError("name at least one agent family (--agents SPEC)")
    if isinstance(seeds, int) or isinstance(seeds, str):
        count = as_int(seeds, "seeds", minimum=1)
        seeds = tuple(range(first_seed, first_seed + count))
    seeds = tuple(int(s) for s in seeds)
    loaded = load_game(game)
    from spielplatz.learning.games import game_kinds

    if not hasattr(loaded, "environment") and "jax_environment" not in game_kinds(loaded):
        raise SpielplatzError(f"{loaded.name}: cross-play needs a game agents can play "
                              f"(an iterated game such as ipd or iasymbos, or an "
                              f"environment such as coins or abcg), not a "
                              f"{type(loaded).__name__}")
    confidence = as_float(confidence, "confidence")
    if not 0.0 < confidence < 1.0:
        raise SpielplatzError(f"confidence must be in (0, 1), got {confidence:g}")
    families, labels = [], []
    for spec in agents:
        label, run = _family(spec, loaded, seeds, as_int(steps, "steps", minimum=1))
        base, n = label, 2
        while label in labels:
            label, n = f"{base} #{n}", n + 1
        labels.append(label)
        families.append((label, run))
    result = cross_play(loaded, families, welfare=welfare, disagreement=disagreement,
                        episodes=as_int(episodes, "episodes", minimum=1),
                        horizon=as_int(horizon, "horizon", minimum=1), seed=as_seed(seed),
                        confidence=confidence,
                        min_selfplay=None if min_selfplay is None
                        else as_float(min_selfplay, "min_selfplay"))
    if solve is not None:
        meta = meta_game(result)
        solution = solve_game(meta, solver=solve, concept=concept, **solver_options)
        result.meta = {"solver": solve, "concept": concept, "families": list(labels),
                       "payoffs": meta.payoffs.tolist(), "solution": solution.to_dict()}
    return result

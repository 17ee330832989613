"""Training through the host."""

from __future__ import annotations

from typing import Any

from spielplatz.api.games import load_game
from spielplatz.api.registry import CheckedLearner, instantiate
from spielplatz.plugins.host import get_host

__all__ = ["learn", "load_run", "play", "DEFAULT_EPISODES"]

#: Episodes sampled by :func:`play` when the agents have no closed-form values and none
#: were asked for.
DEFAULT_EPISODES = 32


def learn(game: Any, learner: str, *, steps: int, seeds: Any = None, **options: Any) -> Any:
    """Train ``learner`` on ``game`` and return its :class:`~spielplatz.Run`.

    ``game`` is anything :func:`~spielplatz.load_game` takes (a name, a game string, a
    game object); ``steps`` a positive integer; ``seeds`` one seed, a ``range`` or a
    sequence of distinct seeds (0..4294967295; default ``(0,)``; ``seed=S`` is the same
    as ``seeds=(S,)``), all trained at once. ``progress=callable(done, total)`` is told
    how far it got; the other options are the learner's (``spielplatz learners``),
    checked against its declaration. The learner runs under the host's guard, and its
    answer is checked (:func:`~spielplatz.api.registry.audit_run`).
    """
    if seeds is None and "seed" not in options:
        seeds = (0,)
    if seeds is not None:
        options["seeds"] = seeds
    entry = get_host().registry("learner").get(learner)
    impl = CheckedLearner(instantiate(entry, "learner"), entry)
    loaded = load_game(game)
    return impl.learn(loaded, steps=steps, **options)    # checked, guarded, audited


def load_run(path: Any) -> Any:
    """A run saved by ``spielplatz learn --out`` (or :func:`spielplatz.save_run`).

    ``path`` is a ``<prefix>_run.json`` file, or a folder holding exactly one. Metrics come
    back as numpy arrays and the agents (if the run holds them) ready for :func:`play`.

    Raises
    ------
    SpielplatzError
        One line naming the file and what is wrong: missing, not JSON, not a run, a
        metric or agent of the wrong shape.
    """
    from pathlib import Path

    import numpy as np

    from spielplatz.errors import SpielplatzError
    from spielplatz.learning.agents import check_agents
    from spielplatz.results import Run
    from spielplatz.system.inputs import load_json, read_text

    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("*_run.json"))
        if len(found) != 1:
            raise SpielplatzError(f"{path}: expected one *_run.json in the folder, found "
                                  f"{len(found)}" + (f" ({', '.join(f.name for f in found)}); "
                                                     f"name the file" if found else ""))
        path = found[0]
    data = load_json(read_text(path), path)
    need = ("learner", "game", "config", "seeds", "steps", "metrics")
    if not isinstance(data, dict) or any(k not in data for k in need):
        missing = [k for k in need if not isinstance(data, dict) or k not in data]
        raise SpielplatzError(f"{path}: not a Spielplatz run (missing {', '.join(missing)})")
    try:
        seeds = tuple(int(s) for s in data["seeds"])
        steps = np.asarray(data["steps"], dtype=int)
        metrics = {str(k): np.asarray(v, dtype=float) for k, v in data["metrics"].items()}
    except (TypeError, ValueError, AttributeError):
        raise SpielplatzError(f"{path}: not a Spielplatz run (seeds, steps or metrics are "
                              f"not numeric)") from None
    for key, value in metrics.items():
        if value.ndim < 2 or value.shape[:2] != (len(seeds), len(steps)):
            raise SpielplatzError(f"{path}: metric {key!r} has shape {list(value.shape)}, "
                                  f"not [{len(seeds)} seeds, {len(steps)} records, ...]")
    diverged = tuple(bool(d) for d in data.get("diverged") or ())
    if diverged and len(diverged) != len(seeds):
        raise SpielplatzError(f"{path}: 'diverged' has {len(diverged)} entries for "
                              f"{len(seeds)} seeds")
    agents = check_agents(data.get("agents"), len(seeds), str(path))
    return Run(learner=str(data["learner"]), game=str(data["game"]),
               config=dict(data["config"]), seeds=seeds, metrics=metrics, steps=steps,
               final=data.get("final") or {}, wall_time=float(data.get("wall_time") or 0.0),
               diverged=diverged, diverged_step=tuple(data.get("diverged_step") or ()),
               agents=agents)


def play(game: Any, first: Any, second: Any, *, seed_first: int = 0, seed_second: int = 0,
         episodes: int = 0, horizon: int = 100, seed: int = 0) -> dict:
    """Play player 1 of run ``first`` against player 2 of run ``second`` on ``game``.

    ``first`` and ``second`` are runs (:class:`~spielplatz.Run`) or saved runs
    (:func:`load_run` paths); ``seed_first`` / ``seed_second`` pick the seed by position.
    Returns per-player average rewards per step: ``{"exact": [2] or None, "sampled":
    {...} or None, "agents": [...]}`` (:func:`spielplatz.learning.agents.play`). Agents
    without closed-form values (any pair but two memory-one agents on an iterated matrix
    game) are sampled, :data:`DEFAULT_EPISODES` episodes when ``episodes`` is 0.
    """
    from spielplatz.learning.agents import (agent, check_trained_on, has_exact_values,
                                            play as play_agents)
    from spielplatz.validation import as_int, as_seed

    runs = [load_run(r) if not hasattr(r, "metrics") else r for r in (first, second)]
    a = agent(runs[0], as_int(seed_first, "seed index", minimum=0), 0)
    b = agent(runs[1], as_int(seed_second, "seed index", minimum=0), 1)
    loaded = load_game(game)
    for label, run in zip(("first", "second"), runs):
        check_trained_on(run, loaded, f"{label} ({run.learner})")
    episodes = as_int(episodes, "episodes", minimum=0)
    if not has_exact_values(loaded, a, b) and episodes == 0:
        episodes = DEFAULT_EPISODES                      # no closed form: sample instead
    out = play_agents(loaded, a, b, episodes=episodes,
                      horizon=as_int(horizon, "horizon", minimum=1), seed=as_seed(seed))
    out["agents"] = [{"learner": x.learner, "seed": x.seed, "player": x.player + 1}
                     for x in (a, b)]
    return out

"""The learners' run driver: a pure ``init``/``step``/``measure`` trainer over many seeds at once.

All seeds advance together under ``jax.vmap`` inside one ``jax.jit``-ed
``lax.scan``; the host loop only cuts the run into chunks so that a progress
callback can be told how far it got.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["record_schedule", "record_steps", "run_seeds", "seed_keys", "stack_games"]


def record_schedule(steps: int, records: int) -> tuple[int, int]:
    """``(every, count)``: record every ``every`` steps and at the last, ``count`` times.

    ``every = ceil(steps / records)`` and ``count = ceil(steps / every)`` (at most
    ``records``): the records fall at steps ``every, 2 every, ...`` and at ``steps``,
    the last window holding the ``steps - (count - 1) every`` steps left (all of
    ``every`` when it divides ``steps``). :func:`record_steps` lists them.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    records = max(1, min(int(records), steps))
    every = -(-steps // records)          # ceil
    return every, -(-steps // every)


def record_steps(steps: int, records: int) -> np.ndarray:
    """The steps :func:`record_schedule` records at (the last is ``steps``)."""
    every, count = record_schedule(steps, records)
    return np.minimum(np.arange(1, count + 1) * every, steps)


def seed_keys(seeds: Sequence[int]) -> jax.Array:
    """``[len(seeds), 2]`` keys, row ``k`` equal to ``jax.random.PRNGKey(seeds[k])``.

    Built in one vectorised call (``jax.vmap`` over a ``uint32`` array), not
    as a Python list of keys stacked together: 100000 seeds take milliseconds.
    Seeds are unsigned 32-bit integers (``spielplatz.validation.as_seeds``).
    """
    arr = np.asarray([int(s) for s in seeds] if not isinstance(seeds, np.ndarray) else seeds)
    if arr.size and (arr.min() < 0 or arr.max() > 0xFFFFFFFF):
        raise ValueError("seeds must be integers in 0..4294967295")
    return jax.vmap(jax.random.PRNGKey)(jnp.asarray(arr.astype(np.uint32)))


def stack_games(games: Sequence[Any]) -> Any:
    """Stack pytree games (same structure) along a new leading axis.

    Leaves are stacked with numpy first (one device transfer per leaf, not one
    per game and leaf).
    """
    return jax.tree_util.tree_map(lambda *xs: jnp.asarray(np.stack([np.asarray(x) for x in xs])),
                                  *games)


def run_seeds(init: Callable, step: Callable, measure: Callable, *, seeds: Sequence[int],
              steps: int, records: int, game: Any = None, games: Any = None,
              initial_record: bool = True, progress: Callable[[int, int], None] | None = None,
              chunks: int = 20) -> tuple[np.ndarray, dict, Any]:
    """Train every seed for ``steps`` steps; return record steps, metrics and final states.

    Parameters
    ----------
    init, step, measure : callable
        ``init(g, key) -> state``, ``step(g, state) -> (state, stats)`` and
        ``measure(g, state) -> metrics``. ``stats`` (a dict, maybe empty) is
        averaged over each recording window; ``metrics`` is taken at its end.
    seeds : sequence of int
        One ``jax.random.PRNGKey(seed)`` per run.
    game : object, optional
        The game, closed over (same for every seed).
    games : pytree, optional
        Stacked per-seed games (leading axis = seeds), mapped over instead.
    initial_record : bool
        Also record ``measure`` before the first step (at step 0).
    progress : callable, optional
        ``progress(done_steps, total_steps)`` after every chunk.

    Returns
    -------
    steps : numpy.ndarray ``[R]``
    metrics : dict of numpy.ndarray ``[num_seeds, R, ...]``
    final_state : pytree with leading axis ``num_seeds``
    """
    every, count = record_schedule(steps, records)
    last = steps - (count - 1) * every          # the last window's length (<= every)
    keys = seed_keys(seeds)
    mapped = games is not None
    g_axis = 0 if mapped else None
    g_arg = games if mapped else None

    def pick(g):
        return g if mapped else game

    v_init = jax.jit(jax.vmap(lambda g, k: init(pick(g), k), in_axes=(g_axis, 0)))
    v_measure = jax.jit(jax.vmap(lambda g, s: measure(pick(g), s), in_axes=(g_axis, 0)))

    @functools.partial(jax.jit, static_argnums=(2, 3))
    def advance(g_all, state, n_records, every):
        def one(g, s):
            g = pick(g)

            def record(s, _):
                def inner(carry, _):
                    s, acc = carry
                    s, stats = step(g, s)
                    acc = jax.tree_util.tree_map(jnp.add, acc, stats)
                    return (s, acc), None

                zero = jax.tree_util.tree_map(lambda z: jnp.zeros(z.shape, z.dtype),
                                              jax.eval_shape(lambda s: step(g, s)[1], s))
                (s, acc), _ = jax.lax.scan(inner, (s, zero), None, length=every)
                acc = jax.tree_util.tree_map(lambda a: a / every, acc)
                return s, {**acc, **measure(g, s)}

            return jax.lax.scan(record, s, None, length=n_records)

        return jax.vmap(one, in_axes=(g_axis, 0))(g_all, state)

    state = v_init(g_arg, keys)
    parts: list[dict] = []
    at: list[int] = []
    if initial_record:
        first = v_measure(g_arg, state)
        parts.append({k: np.asarray(v)[:, None] for k, v in first.items()})
        at.append(0)
    per_chunk = max(1, -(-count // max(1, chunks)))
    done = 0
    if progress is not None:
        progress(0, steps)
    full = count if last == every else count - 1
    while done < count:
        # full windows in chunks, then the shorter last window (compiled once more)
        n = min(per_chunk, full - done) if done < full else 1
        length = every if done < full else last
        state, metrics = advance(g_arg, state, n, length)
        parts.append({k: np.asarray(v) for k, v in metrics.items()})
        at.extend(min(every * (done + i + 1), steps) for i in range(n))
        done += n
        if progress is not None:
            progress(min(done * every, steps), steps)
    keys_all = parts[-1].keys()
    metrics_out = {}
    for k in keys_all:
        pieces = [p[k] for p in parts if k in p]
        metrics_out[k] = np.concatenate(pieces, axis=1)
    if initial_record:
        # step-0 records lack window statistics: keep only metrics present everywhere
        n_rec = len(at)
        metrics_out = {k: v for k, v in metrics_out.items() if v.shape[1] == n_rec}
    return np.asarray(at), metrics_out, state

"""The Coin Game family as a functional JAX environment (a ``jax_environment`` game).

:class:`CoinGame` follows :class:`spielplatz.learning.games.JaxEnvironmentGame`:
``reset(key) -> (state, obs)``, ``step(state, actions, key) -> (state, obs, rewards,
done)``, ``metrics(state)``, ``to_openspiel()``; everything is pure and runs under
``jax.jit`` and ``jax.vmap``. Randomness enters through an explicit :class:`CoinNoise`
(``reset_noise(key)`` / ``step_noise(key)``) and the deterministic ``initial_state(noise)``
/ ``transition(state, actions, noise)``: tests replay the same chance events in the
pyspiel twin and mirror them for the seat-swap symmetry.

Cells are indices ``row * grid + col``. Coin placement is symmetric in the coin slots:
every slot to be placed ranks the allowed cells by its own uniform noise and takes its
best; when two slots want the same cell, the one that ranks it higher keeps it and the
other takes its second best. Each coin is uniform over the allowed cells and a pair is
uniform over ordered pairs of distinct cells -- the distribution of the pyspiel twin's
sequential chance nodes -- and exchanging the slots' noise exchanges the cells.

Under ``coins=cells`` the slots are fixed (slot ``c`` a red coin on cell ``c``, slot
``cells + c`` a blue one) and only ``live`` changes: one uniform per cell decides what a
free cell grows (red below ``p``, blue in ``[p, 2p)``, else nothing).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from .rules import ACTION_NAMES, MOVES, OWNER_PENALTY, PICK_REWARD, CoinRules

__all__ = ["CoinGame", "CoinState", "CoinNoise", "METRICS"]

#: Columns of :attr:`CoinState.counts`.
METRICS = ("own_coins", "other_coins", "coop_coins", "disagreement_coins")


@struct.dataclass
class CoinState:
    """One Coin Game state.

    Attributes
    ----------
    players : int32 ``[2]``
        Cells of red (player 0) and blue (player 1).
    coins : int32 ``[S]``
        Cells of the coin slots (0 where a slot is empty).
    live : bool ``[S]``
        Which slots hold a coin.
    colour : int32 ``[]``
        ``coins=one``: the coin's owner; ``abcg``: the cooperation coin's owner (slot 0;
        the disagreement coin in slot 1 belongs to the other player); ``spawn`` and
        ``cells``: 0 (the slots' owners are fixed).
    t : int32 ``[]``
        Steps played.
    counts : int32 ``[2, 4]``
        Per player, this episode: own-colour coins taken, other-colour coins taken,
        cooperation coins taken (``abcg``), disagreement coins taken (``abcg``).
    """

    players: Any
    coins: Any
    live: Any
    colour: Any
    t: Any
    counts: Any


@struct.dataclass
class CoinNoise:
    """The chance events of one reset or step.

    ``flip`` (bool): at reset the first colour (``True``: blue); in a step the winner of
    a contested coin under ``tie=random`` (``True``: blue). ``spawn`` ``[S]``: uniforms,
    an absent coin ``k`` appears when ``spawn[k] < p`` (``coins=cells``: ``[cells]``, a
    free cell ``c`` grows a red coin when ``spawn[c] < p``, a blue one when
    ``p <= spawn[c] < 2p``). ``rank`` ``[S, cells]``: the coin slots' cell preferences
    (``coins=cells``: ``[0, cells]``, unused). ``start`` ``[2, cells]`` (reset only): the
    players' start cell preferences (distinct cells).
    """

    flip: Any
    spawn: Any
    rank: Any
    start: Any = None


def _place(rank: Any, allowed: Any, need: Any) -> Any:
    """Cells ``[S]`` for the slots (see the module docstring); ``need`` marks the slots
    that are placed now (only they compete for cells)."""
    cells = rank.shape[-1]
    r = jnp.where(allowed[None, :], rank, -1.0)
    first = jnp.argmax(r, axis=1).astype(jnp.int32)
    if rank.shape[0] == 1:
        return first
    arange = jnp.arange(cells, dtype=jnp.int32)
    second = jnp.argmax(jnp.where(arange[None, :] == first[:, None], -2.0, r),
                        axis=1).astype(jnp.int32)
    contested = need[0] & need[1] & (first[0] == first[1])
    keeps0 = r[0, first[0]] > r[1, first[1]]
    return jnp.stack([jnp.where(contested & ~keeps0, second[0], first[0]),
                      jnp.where(contested & keeps0, second[1], first[1])])


@struct.dataclass
class CoinGame:
    """A Coin Game (rules in :class:`~spielplatz_coins.rules.CoinRules`, docs/games.md).

    Attributes
    ----------
    rules : CoinRules
    name : str
    num_players, num_actions, horizon : int
    observation_shape : tuple
        ``(channels, grid, grid)``; ``obs[i]`` is player ``i``'s view: own position,
        other's position, own-colour coins, other-colour coins (``abcg``: and the
        cooperation coin), the same function of the state for both seats.
    action_names : tuple of str
    """

    rules: CoinRules = struct.field(pytree_node=False, default=CoinRules())
    name: str = struct.field(pytree_node=False, default="coins")

    num_players = 2

    # -- the protocol's attributes ------------------------------------------------
    @property
    def num_actions(self) -> int:
        return self.rules.num_actions

    @property
    def observation_shape(self) -> tuple:
        return self.rules.observation_shape

    @property
    def horizon(self) -> int:
        return self.rules.horizon

    @property
    def action_names(self) -> tuple:
        return ACTION_NAMES[:self.num_actions]

    def metric_names(self) -> tuple:
        return METRICS if self.rules.abcg else METRICS[:2]

    def symmetries(self) -> tuple:
        """The board's symmetries (the optional protocol method): ``(cells [G, grid^2],
        moves [G, A])`` int arrays. The eight rotations and reflections of the square
        about the centre cell, times the ``grid^2`` translations on a torus with
        absolute views (none with walls, where only the centre is fixed, or with
        egocentric views, already centred); ``g``'s view reads cell ``y`` from
        ``cells[g, y]``, ``moves[g, a]`` is ``g``'s image of move ``a`` (``stay`` fixed).
        Colours and seats are untouched, so every ``g`` maps the game onto itself."""
        n = self.rules.grid
        centre = n // 2
        turns = [((1, 0), (0, 1)), ((0, -1), (1, 0)), ((-1, 0), (0, -1)), ((0, 1), (-1, 0)),
                 ((1, 0), (0, -1)), ((-1, 0), (0, 1)), ((0, 1), (1, 0)), ((0, -1), (-1, 0))]
        shifts = ([(r, c) for r in range(n) for c in range(n)]
                  if self.rules.boundary == "torus" and not self.rules.egocentric else [(0, 0)])
        moves = MOVES[:self.num_actions]
        cells, images = [], []
        for m in turns:
            mat = np.array(m)
            image = [moves.index(tuple(int(v) for v in mat @ np.array(mv))) for mv in moves]
            for shift in shifts:
                src = np.zeros(n * n, np.int32)
                for r in range(n):
                    for c in range(n):
                        y = (mat @ np.array([r - centre, c - centre]) + centre
                             + np.array(shift)) % n
                        src[y[0] * n + y[1]] = r * n + c
                cells.append(src)
                images.append(image)
        return np.array(cells), np.array(images, np.int32)

    # -- chance ----------------------------------------------------------------------
    def _noise(self, u: Any, flip: bool) -> CoinNoise:
        """Chance events from one vector of uniforms (one random draw per step is
        cheaper than several keys): ``[flip?, spawn?, rank, start?]``."""
        r = self.rules
        slots, cells = r.num_slots, r.num_cells
        at = 0
        if flip:
            out_flip, at = u[0] < 0.5, 1
        else:
            out_flip = jnp.zeros((), bool)
        if r.coins == "cells":
            spawn, at = u[at:at + cells], at + cells
            slots = 0                                   # no placement ranks
        elif r.coins == "spawn":
            spawn, at = u[at:at + slots], at + slots
        else:
            spawn = jnp.zeros((slots,), jnp.float32)
        rank = u[at:at + slots * cells].reshape(slots, cells)
        at += slots * cells
        start = u[at:at + 2 * cells].reshape(2, cells) if u.shape[0] > at else None
        return CoinNoise(flip=out_flip, spawn=spawn, rank=rank, start=start)

    def _draws(self, flip: bool) -> int:
        r = self.rules
        if r.coins == "cells":
            return int(flip) + r.num_cells
        return int(flip) + (r.num_slots if r.coins == "spawn" else 0) + r.num_slots * r.num_cells

    def step_noise(self, key: Any) -> CoinNoise:
        """The chance events of one step (only those the rules use are random)."""
        flip = self.rules.tie == "random" and not self.rules.abcg
        return self._noise(jax.random.uniform(key, (self._draws(flip),)), flip)

    def reset_noise(self, key: Any) -> CoinNoise:
        """The chance events of a reset (start cells, first colour, coins)."""
        n = self._draws(True) + 2 * self.rules.num_cells
        return self._noise(jax.random.uniform(key, (n,)), True)

    # -- the rules -------------------------------------------------------------------
    def owners(self, colour: Any) -> Any:
        """Owner of each coin slot ``[S]``."""
        r = self.rules
        if r.coins == "cells":
            return jnp.repeat(jnp.arange(2, dtype=jnp.int32), r.num_cells)
        if r.coins == "spawn":
            return jnp.arange(2, dtype=jnp.int32)
        if r.abcg:
            return jnp.stack([colour, 1 - colour]).astype(jnp.int32)
        return jnp.reshape(colour, (1,)).astype(jnp.int32)

    def _spawn(self, players: Any, coins: Any, live: Any, need: Any, noise: CoinNoise) -> tuple:
        """Place the slots in ``need`` on cells free of players and remaining coins."""
        cells = jnp.arange(self.rules.num_cells, dtype=jnp.int32)
        stays = live & ~need
        blocked = ((cells[None, :] == players[:, None]).any(0)
                   | ((cells[None, :] == coins[:, None]) & stays[:, None]).any(0))
        placed = _place(noise.rank, ~blocked, need)
        coins = jnp.where(need, placed, jnp.where(stays, coins, 0)).astype(jnp.int32)
        return coins, stays | need

    def _grow(self, players: Any, live: Any, u: Any) -> Any:
        """``coins=cells``: ``live`` after every cell free of players and coins grew a
        red coin (``u < p``), a blue one (``p <= u < 2p``) or nothing."""
        r = self.rules
        cells = jnp.arange(r.num_cells, dtype=jnp.int32)
        occupied = live.reshape(2, r.num_cells).any(0) | (cells[None, :] == players[:, None]).any(0)
        red = ~occupied & (u < r.p)
        blue = ~occupied & (u >= r.p) & (u < 2 * r.p)
        return live | jnp.concatenate([red, blue])

    def initial_state(self, noise: CoinNoise) -> CoinState:
        """The start: players on distinct uniform cells, then the coins."""
        r = self.rules
        cells = r.num_cells
        players = _place(noise.start, jnp.ones(cells, bool), jnp.ones(2, bool))
        colour = (noise.flip.astype(jnp.int32) if r.coins == "one"
                  else jnp.zeros((), jnp.int32))
        empty = jnp.zeros(r.num_slots, jnp.int32), jnp.zeros(r.num_slots, bool)
        if r.coins == "cells":
            coins = jnp.tile(jnp.arange(cells, dtype=jnp.int32), 2)
            live = self._grow(players, empty[1], noise.spawn)
        else:
            need = (noise.spawn < r.p) if r.coins == "spawn" else jnp.ones(r.num_slots, bool)
            coins, live = self._spawn(players, *empty, need, noise)
        return CoinState(players=players, coins=coins, live=live, colour=colour,
                         t=jnp.zeros((), jnp.int32), counts=jnp.zeros((2, 4), jnp.int32))

    def move(self, players: Any, actions: Any) -> Any:
        """Cells after the moves (wrapping on a torus, blocked by walls)."""
        g = self.rules.grid
        delta = jnp.asarray(np.asarray(MOVES, np.int32))[jnp.asarray(actions, jnp.int32)]
        row, col = players // g + delta[:, 0], players % g + delta[:, 1]
        if self.rules.boundary == "torus":
            row, col = row % g, col % g
        else:
            row, col = jnp.clip(row, 0, g - 1), jnp.clip(col, 0, g - 1)
        return (row * g + col).astype(jnp.int32)

    def transition(self, state: CoinState, actions: Any, noise: CoinNoise) -> tuple:
        """One step with given chance events: ``(state, rewards [2] float32)``."""
        r = self.rules
        players = self.move(state.players, actions)
        on = state.live[None, :] & (players[:, None] == state.coins[None, :])     # [2, S]
        seat = jnp.arange(2, dtype=jnp.int32)
        owner = self.owners(state.colour)
        is_owner = seat[:, None] == owner[None, :]                                 # [2, S]
        zero = jnp.zeros(2, jnp.int32)
        if r.abcg:
            coop = on[0, 0] & on[1, 0]                        # both on the cooperation coin
            dis = on[1 - state.colour, 1]                     # its owner on the other coin
            value = jnp.where(state.colour == 0, r.coop_red, r.coop_blue)
            mine_coop, mine_dis = seat == state.colour, seat != state.colour
            rewards = (jnp.where(mine_coop & coop, value, 0.0)
                       + jnp.where(mine_dis & dis, r.disagreement, 0.0))
            ended = coop | dis
            counts = jnp.stack([(mine_coop & coop) | (mine_dis & dis), ~mine_coop & coop,
                                jnp.broadcast_to(coop, (2,)), mine_dis & dis],
                               axis=1).astype(jnp.int32)
            colour = jnp.where(ended, 1 - state.colour, state.colour)
            live, need = state.live & ~ended, jnp.broadcast_to(ended, (2,))
        else:
            take = on
            if r.tie == "random":
                contested = on[0] & on[1]
                winner = noise.flip.astype(jnp.int32)
                take = on & (~contested[None, :] | (seat[:, None] == winner))
            taken = take.any(0)
            stolen = (take & ~is_owner).any(0)
            rewards = (PICK_REWARD * take.sum(1)
                       + OWNER_PENALTY * (is_owner & stolen[None, :]).sum(1))
            counts = jnp.stack([(take & is_owner).sum(1), (take & ~is_owner).sum(1),
                                zero, zero], axis=1).astype(jnp.int32)
            live = state.live & ~taken
            if r.coins == "one":
                colour, need = jnp.where(taken[0], 1 - state.colour, state.colour), taken
            else:                              # spawn, cells: the slots' owners are fixed
                colour, need = state.colour, ~live
        if r.coins == "cells":                 # fixed slots: free cells grow new coins
            coins, live = state.coins, self._grow(players, live, noise.spawn)
        else:
            if r.coins == "spawn":
                need = need & (noise.spawn < r.p)
            coins, live = self._spawn(players, state.coins, live, need, noise)
        new = CoinState(players=players, coins=coins, live=live, colour=colour.astype(jnp.int32),
                        t=state.t + 1, counts=state.counts + counts)
        return new, rewards.astype(jnp.float32)

    # -- observations ---------------------------------------------------------------
    def observe(self, state: CoinState) -> Any:
        """Both players' views ``[2, C, grid, grid]`` float32."""
        r = self.rules
        g, cells = r.grid, r.num_cells
        owner = self.owners(state.colour)
        views = []
        for i in (0, 1):
            if r.egocentric:
                centre = g // 2
                dr, dc = centre - state.players[i] // g, centre - state.players[i] % g

                def local(cell: Any, dr: Any = dr, dc: Any = dc) -> Any:
                    return ((cell // g + dr) % g) * g + (cell % g + dc) % g
            else:
                def local(cell: Any) -> Any:
                    return cell
            grid = jnp.arange(cells, dtype=jnp.int32)
            coin_hot = (grid[None, :] == local(state.coins)[:, None]) & state.live[:, None]
            planes = [grid == local(state.players[i]), grid == local(state.players[1 - i]),
                      (coin_hot & (owner == i)[:, None]).any(0),
                      (coin_hot & (owner != i)[:, None]).any(0)]
            if r.abcg:
                planes.append(coin_hot[0])
            views.append(jnp.stack(planes))
        return jnp.stack(views).astype(jnp.float32).reshape((2,) + r.observation_shape)

    # -- the JaxEnvironmentGame protocol ---------------------------------------------
    def reset(self, key: Any) -> tuple:
        """``(state, obs [2, C, grid, grid])`` of a fresh episode."""
        state = self.initial_state(self.reset_noise(key))
        return state, self.observe(state)

    def step(self, state: CoinState, actions: Any, key: Any) -> tuple:
        """``(state, obs, rewards [2] float32, done)``; ``done`` after ``horizon`` steps."""
        state, rewards = self.transition(state, actions, self.step_noise(key))
        return state, self.observe(state), rewards, state.t >= self.rules.horizon

    def metrics(self, state: CoinState) -> dict:
        """Per player ``[2]``, this episode: ``own_coins``, ``other_coins`` (and for
        ``abcg`` ``coop_coins``, ``disagreement_coins``). The own-coin rate is
        ``own / (own + other)``."""
        return {k: state.counts[:, j] for j, k in enumerate(self.metric_names())}

    @staticmethod
    def derived_metrics(totals: dict) -> dict:
        """From summed ``metrics`` (numpy, elementwise): ``own_coin_rate``, the share of the
        coins taken that were the taker's own colour (``own / (own + other)``, NaN where
        none was taken; LOLA's and D3C's Figure 8d measure)."""
        import numpy as np

        own, other = totals["own_coins"], totals["other_coins"]
        taken = own + other
        return {"own_coin_rate": np.where(taken > 0, own / np.where(taken > 0, taken, 1.0),
                                          np.nan)}

    def to_openspiel(self) -> Any:
        """The same game as the pyspiel game ``spielplatz_coin_game`` with these rules."""
        from .openspiel_game import load_openspiel

        return load_openspiel(self.rules)

    def __repr__(self) -> str:
        return f"CoinGame({self.name!r})"

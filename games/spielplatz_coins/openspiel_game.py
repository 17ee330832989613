"""The Coin Game family as a Python pyspiel game: ``spielplatz_coin_game``.

Simultaneous moves with explicit chance nodes, registered with
:func:`pyspiel.register_game` under a name that differs from OpenSpiel's own
``coin_game`` (a different, sequential game with hidden preferences). Its parameters are
the rules of :class:`~spielplatz_coins.rules.CoinRules`; the rules are the same as in the
JAX environment (:mod:`spielplatz_coins.env`), written again in plain Python, and
``tests/test_coins.py`` checks that both give identical trajectories.

Chance nodes, in this order (cells are ``row * grid + col``; ``NONE = grid * grid``):

* start: red's cell (uniform), blue's cell (uniform over the others), then for
  ``coins=one`` and ``abcg`` the first colour (0 red, 1 blue; fair), then the coins;
* after a joint move, under ``tie=random`` when both players stepped onto the same coin:
  who takes it (0 red, 1 blue; fair);
* then, unless the episode is over, the coins to place: the taken coin (``one``), both
  coins of a new pair (``abcg``: cooperation coin, then disagreement coin), or for every
  absent coin (``spawn``; red's, then blue's) whether it appears and where (``NONE``
  with probability ``1 - p``, each free cell with ``p / free cells``), or (``cells``)
  for every cell free of players and coins, in cell order, what it grows (0 nothing with
  probability ``1 - 2p``, 1 a red coin, 2 a blue coin, each with ``p``).

A coin is placed uniformly on a cell free of players and of the other coin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyspiel

from .rules import ACTION_NAMES, MOVES, OWNER_PENALTY, PICK_REWARD, CoinRules, make_rules

__all__ = ["SHORT_NAME", "load_openspiel", "CoinOpenSpielGame", "CoinOpenSpielState"]

SHORT_NAME = "spielplatz_coin_game"
_DEFAULTS = CoinRules().to_dict()

_GAME_TYPE = pyspiel.GameType(
    short_name=SHORT_NAME,
    long_name="Spielplatz Coin Game family (LOLA, D3C Coins, ABCG)",
    dynamics=pyspiel.GameType.Dynamics.SIMULTANEOUS,
    chance_mode=pyspiel.GameType.ChanceMode.EXPLICIT_STOCHASTIC,
    information=pyspiel.GameType.Information.PERFECT_INFORMATION,
    utility=pyspiel.GameType.Utility.GENERAL_SUM,
    reward_model=pyspiel.GameType.RewardModel.REWARDS,
    max_num_players=2,
    min_num_players=2,
    provides_information_state_string=False,
    provides_information_state_tensor=False,
    provides_observation_string=True,
    provides_observation_tensor=True,
    provides_factored_observation_string=False,
    parameter_specification=_DEFAULTS)


def load_openspiel(rules: CoinRules) -> Any:
    """``pyspiel.load_game(SHORT_NAME, rules)``."""
    return pyspiel.load_game(SHORT_NAME, rules.to_dict())


class CoinOpenSpielGame(pyspiel.Game):
    """The pyspiel game ``spielplatz_coin_game(grid=3,...)`` (rules: docs/games.md)."""

    def __init__(self, params: Any = None):
        params = {**_DEFAULTS, **(dict(params) if params else {})}
        self.rules = make_rules(**params)
        r = self.rules
        if r.abcg:
            best = max(r.coop_red, r.coop_blue, r.disagreement, 0.0)
            worst = min(r.coop_red, r.coop_blue, r.disagreement, 0.0)
        else:
            best, worst = PICK_REWARD, OWNER_PENALTY
        super().__init__(_GAME_TYPE, pyspiel.GameInfo(
            num_distinct_actions=r.num_actions, max_chance_outcomes=r.num_cells + 1,
            num_players=2, min_utility=worst * r.horizon, max_utility=best * r.horizon,
            utility_sum=None, max_game_length=(r.num_cells + 4) * (r.horizon + 1)), params)

    def new_initial_state(self):
        """The start (chance nodes place the players and the coins)."""
        return CoinOpenSpielState(self)

    def make_py_observer(self, iig_obs_type=None, params=None):
        """Player ``i``'s view ``[C, grid, grid]``, as in the JAX environment."""
        return CoinObserver(self.rules)


class CoinOpenSpielState(pyspiel.State):
    """Players' cells, coin slots (cell, live), colour, steps, pending chance nodes."""

    def __init__(self, game: CoinOpenSpielGame):
        super().__init__(game)
        self.rules = r = game.rules
        self.players: list[int] = []
        self.coins = [0] * r.num_slots
        self.live = [False] * r.num_slots
        self.colour = 0
        self.t = 0
        self.counts = np.zeros((2, 4), dtype=int)
        self._pending: list[tuple] = [("start", 0), ("start", 1)]
        if r.coins == "one":
            self._pending.append(("colour",))
        if r.coins == "cells":
            self.coins = list(range(r.num_cells)) * 2
        else:
            self._pending += self._placements(range(r.num_slots))
        self._moved: list[int] | None = None     # cells after a move awaiting a tie flip
        self._rewards = np.zeros(2)
        self._returns = np.zeros(2)

    # -- helpers ---------------------------------------------------------------------
    def _placements(self, slots: Any) -> list[tuple]:
        kind = "spawn" if self.rules.coins == "spawn" else "place"
        return [(kind, k) for k in slots]

    def _growths(self) -> list[tuple]:
        """``coins=cells``: one chance node per cell free of players and coins."""
        n = self.rules.num_cells
        return [("cell", c) for c in range(n)
                if c not in self.players and not (self.live[c] or self.live[n + c])]

    def owners(self) -> list[int]:
        r = self.rules
        if r.coins == "cells":
            return [0] * r.num_cells + [1] * r.num_cells
        if r.coins == "spawn":
            return [0, 1]
        if r.abcg:
            return [self.colour, 1 - self.colour]
        return [self.colour]

    def _free_cells(self, slot: int) -> list[int]:
        taken = set(self.players) | {c for k, (c, alive) in enumerate(zip(self.coins, self.live))
                                     if alive and k != slot}
        return [c for c in range(self.rules.num_cells) if c not in taken]

    def _move(self, cell: int, action: int) -> int:
        g = self.rules.grid
        dr, dc = MOVES[action]
        row, col = cell // g + dr, cell % g + dc
        if self.rules.boundary == "torus":
            row, col = row % g, col % g
        else:
            row, col = min(max(row, 0), g - 1), min(max(col, 0), g - 1)
        return row * g + col

    def pending_chance(self) -> tuple | None:
        """The pending chance node: ``("start", i)``, ``("colour",)``, ``("tie",)``,
        ``("place", slot)``, ``("spawn", slot)`` or ``("cell", cell)``; None at a
        decision or the end."""
        return self._pending[0] if self._pending else None

    # -- pyspiel API -----------------------------------------------------------------
    def current_player(self):
        """Chance while something is pending, else both players at once."""
        if self._pending:
            return pyspiel.PlayerId.CHANCE
        if self.t >= self.rules.horizon:
            return pyspiel.PlayerId.TERMINAL
        return pyspiel.PlayerId.SIMULTANEOUS

    def _legal_actions(self, player):
        return list(range(self.rules.num_actions))

    def chance_outcomes(self):
        """Outcomes of the pending chance node with their probabilities."""
        kind = self._pending[0][0]
        if kind == "start":
            cells = [c for c in range(self.rules.num_cells) if c not in self.players]
            return [(c, 1.0 / len(cells)) for c in cells]
        if kind in ("colour", "tie"):
            return [(0, 0.5), (1, 0.5)]
        if kind == "cell":
            p = self.rules.p
            grow = [(1, p), (2, p)]
            return [(0, 1.0 - 2 * p)] + grow if p < 0.5 else grow
        free = self._free_cells(self._pending[0][1])
        if kind == "place":
            return [(c, 1.0 / len(free)) for c in free]
        p = self.rules.p
        out = [(c, p / len(free)) for c in free]
        return out + [(self.rules.num_cells, 1.0 - p)] if p < 1.0 else out

    def _apply_action(self, action):
        kind, *rest = self._pending.pop(0)
        action = int(action)
        if kind == "start":
            self.players.append(action)
            if len(self.players) == 2 and self.rules.coins == "cells":
                self._pending = self._growths() + self._pending
        elif kind == "colour":
            self.colour = action
        elif kind == "tie":
            self._resolve(winner=action)
        elif kind == "cell":
            if action:
                self.live[rest[0] + (action - 1) * self.rules.num_cells] = True
        else:
            slot = rest[0]
            if action < self.rules.num_cells:
                self.coins[slot], self.live[slot] = action, True

    def _apply_actions(self, actions):
        self.players = [self._move(c, int(a)) for c, a in zip(self.players, actions)]
        self._rewards = np.zeros(2)
        r = self.rules
        contested = any(alive and self.players[0] == c == self.players[1]
                        for c, alive in zip(self.coins, self.live))
        if r.tie == "random" and not r.abcg and contested:
            self._pending.append(("tie",))
            return
        self._resolve(winner=None)

    def _resolve(self, winner: int | None) -> None:
        """Pick-ups, rewards and the coins to place after a move."""
        r = self.rules
        owners = self.owners()
        on = [[alive and self.players[i] == c for c, alive in zip(self.coins, self.live)]
              for i in (0, 1)]
        rewards = np.zeros(2)
        if r.abcg:
            owner, other = self.colour, 1 - self.colour
            coop = on[0][0] and on[1][0]
            dis = on[other][1]
            if coop:
                rewards[owner] += r.coop_red if owner == 0 else r.coop_blue
                self.counts[owner, 0] += 1
                self.counts[other, 1] += 1
                self.counts[:, 2] += 1
            if dis:
                rewards[other] += r.disagreement
                self.counts[other, 0] += 1
                self.counts[other, 3] += 1
            place = []
            if coop or dis:
                self.colour = other
                self.live = [False, False]
                place = [0, 1]
        else:
            place = []
            for k, owner in enumerate(owners):
                takers = [i for i in (0, 1) if on[i][k]]
                if len(takers) == 2 and winner is not None:
                    takers = [winner]
                for i in takers:
                    rewards[i] += PICK_REWARD
                    self.counts[i, 0 if i == owner else 1] += 1
                if any(i != owner for i in takers):
                    rewards[owner] += OWNER_PENALTY
                if takers:
                    self.live[k] = False
                    if r.coins == "one":
                        self.colour = 1 - self.colour
                        place.append(k)
            if r.coins == "spawn":
                place = [k for k in range(2) if not self.live[k]]
            if r.coins == "cells":
                place = []
        self._rewards = rewards
        self._returns += rewards
        self.t += 1
        if self.t < r.horizon:
            self._pending += (self._growths() if r.coins == "cells"
                              else self._placements(place))
        for k in place:                         # canonical empty slots, as in JAX
            if not self.live[k]:
                self.coins[k] = 0

    def _action_to_string(self, player, action):
        if player == pyspiel.PlayerId.CHANCE:
            return f"chance {action}"
        return ACTION_NAMES[action]

    def is_terminal(self):
        """Whether ``horizon`` steps have been played."""
        return not self._pending and self.t >= self.rules.horizon

    def rewards(self):
        """Rewards of the last joint move."""
        return list(self._rewards)

    def returns(self):
        """Each player's total reward so far."""
        return list(self._returns)

    def __str__(self):
        r = self.rules
        board = [["."] * r.grid for _ in range(r.grid)]
        owners = self.owners()
        for k, (cell, alive) in enumerate(zip(self.coins, self.live)):
            if alive:
                mark = "rb"[owners[k]]
                board[cell // r.grid][cell % r.grid] = mark.upper() if r.abcg and k == 0 else mark
        for i, cell in enumerate(self.players):
            here = board[cell // r.grid][cell % r.grid]
            board[cell // r.grid][cell % r.grid] = "12"[i] if here == "." else "*"
        return f"t={self.t}\n" + "\n".join("".join(row) for row in board)


def view(rules: CoinRules, players: list, coins: list, live: list, owners: list,
         player: int) -> np.ndarray:
    """Player ``player``'s view ``[C, grid, grid]`` (see :meth:`CoinGame.observe`)."""
    g = rules.grid
    out = np.zeros(rules.observation_shape, np.float32)

    def at(cell: int) -> tuple[int, int]:
        row, col = divmod(cell, g)
        if rules.egocentric:
            me_row, me_col = divmod(players[player], g)
            row, col = (row - me_row + g // 2) % g, (col - me_col + g // 2) % g
        return row, col

    out[(0, *at(players[player]))] = 1.0
    out[(1, *at(players[1 - player]))] = 1.0
    for k, (cell, alive) in enumerate(zip(coins, live)):
        if alive:
            out[(2 if owners[k] == player else 3, *at(cell))] = 1.0
            if rules.abcg and k == 0:
                out[(4, *at(cell))] = 1.0
    return out


class CoinObserver:
    """The observation tensor and string of a player (PyObserver interface)."""

    def __init__(self, rules: CoinRules):
        self.rules = rules
        self.tensor = np.zeros(int(np.prod(rules.observation_shape)), np.float32)
        self.dict = {"observation": self.tensor.reshape(rules.observation_shape)}

    def set_from(self, state, player):
        """Fill :attr:`tensor` with ``player``'s view of ``state``."""
        self.tensor[:] = 0.0
        if len(state.players) == 2:
            self.tensor[:] = view(self.rules, state.players, state.coins, state.live,
                                  state.owners(), player).ravel()

    def string_from(self, state, player):
        """The board: 1 red, 2 blue, r/b coins (R/B: a cooperation coin), * a shared cell."""
        return str(state)


pyspiel.register_game(_GAME_TYPE, CoinOpenSpielGame)

"""Built-in game plugin: random game distributions (NES appendix, D.4 and Table 4).

Registers one named game per distribution, e.g. ``l2_invariant(shape=8x8,seed=3)``
(``shape`` gives the action counts and hence the number of players:
``3x3x3`` is a 3-player game). Each registration also names a batch sampler
(meta ``batch_sampler``): ``sampler(shape, batch_size, seed, **params)`` returns
payoffs ``[B, N, A_1, ..., A_N]``; game ``i`` of a batch is not the named game
with seed ``seed + i``, but the named game with a given seed is game 0 of the
batch with that seed.

Registration is cheap: nothing here imports numpy (the table below is plain
data; the loaders are ``"module:attr"`` strings).
"""

from spielplatz import hookimpl

#: name -> (description, extra parameters with defaults, Table 4 rows)
GAMES = {
    "l1_invariant": ("random L1 offset- and scale-invariant game (NES Figure 6)", {}, "L1"),
    "l2_invariant": ("random L2 offset- and scale-invariant game (NES Figure 6)", {}, "L2"),
    "linf_invariant": ("random L-infinity offset- and scale-invariant game (NES Figure 6)",
                       {}, "Linf"),
    "random_game": ("GAMUT RandomGame: i.i.d. uniform payoffs", {}, "D18"),
    "covariant_game": ("GAMUT CovariantGame, rho ~ U[-1/(N-1), 1] or rho=...",
                       {"rho": None}, "D5-D7"),
    "covariant_game_pos": ("GAMUT CovariantGame-Pos (rho = 0.9)", {}, "D5"),
    "covariant_game_zero": ("GAMUT CovariantGame-Zero (rho = 0)", {}, "D7"),
    "dispersion_game": ("GAMUT DispersionGame: avoid the others' actions", {}, "D8"),
    "minimum_effort_game": ("GAMUT MinimumEffortGame", {}, "D13"),
    "travelers_dilemma": ("GAMUT TravelersDilemma", {}, "D19"),
    "bertrand_oligopoly": ("GAMUT BertrandOligopoly: price competition", {}, "D1"),
    "polymatrix_game": ("GAMUT PolymatrixGame on a player graph "
                        "(complete|random|road|small_world|star)", {"graph": "complete"},
                        "D14-D17"),
    "graphical_game": ("GAMUT GraphicalGame on a player graph "
                       "(random|road|star|small_world|complete)", {"graph": "random"},
                       "D9-D12"),
    "local_effect_game": ("GAMUT local-effect game on an action graph "
                          "(bidirectional=false: uniform LEG)",
                          {"graph": "complete", "bidirectional": True}, "D2-D4, D20-D22"),
}


@hookimpl
def register_games(register):
    for name, (description, extra, rows) in GAMES.items():
        register(name, f"spielplatz_random.named:{name}",
                 description=f"{description} [Table 4: {rows}]",
                 parameters={"shape": "8x8", "seed": 0, **extra},
                 batch_sampler=f"spielplatz_random.named:batch_{name}",
                 tags=("random", "nes"))

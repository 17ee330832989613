"""The papers' matrix games, built as pyspiel matrix games with readable action names.

Each loader returns a ``pyspiel.MatrixGame``; the host converts it to a
:class:`spielplatz.NormalFormGame` (payoffs ``[2, rows, cols]``).
"""

from __future__ import annotations

from typing import Any, Sequence


def _matrix_game(short: str, long: str, rows: Sequence[str], cols: Sequence[str],
                 row_utils: Sequence[Sequence[float]], col_utils: Sequence[Sequence[float]]) -> Any:
    import pyspiel

    return pyspiel.create_matrix_game(short, long, list(rows), list(cols),
                                      [list(map(float, r)) for r in row_utils],
                                      [list(map(float, r)) for r in col_utils])


def chicken() -> Any:
    """Chicken of the MaxEnt CE tutorial, following its comment.

    ::

                  Swerve   Straight
        Swerve    (3,3)    (1,5)
        Straight  (5,1)    (0,0)

    (The tutorial's R code fills the row player's matrix transposed against
    this comment; the comment is the game.)
    """
    return _matrix_game("chicken", "Chicken", ["Swerve", "Straight"], ["Swerve", "Straight"],
                        [[3, 1], [5, 0]], [[3, 5], [1, 0]])


def battle_of_the_sexes() -> Any:
    """Battle of the Sexes of the MaxEnt CE tutorial: (O,O)=(3,2), (F,F)=(2,3), else (0,0)."""
    return _matrix_game("battle_of_the_sexes", "Battle of the Sexes", ["Opera", "Football"],
                        ["Opera", "Football"], [[3, 0], [0, 2]], [[2, 0], [0, 3]])


def asymmetric_bos() -> Any:
    """Asymmetric Bach-or-Stravinsky (normative disagreement, Figure 2 right; IAsymBoS stage).

    ``(B,B) = (4,1)``, ``(S,S) = (2,2)``, miscoordination ``(0,0)``: BB maximises
    utilitarian welfare, SS egalitarian welfare, and a fair public coin between
    them maximises Nash welfare (Section 3.3); (0,0) is the disagreement
    profile of Appendix C.
    """
    return _matrix_game("asymmetric_bos", "Asymmetric Bach or Stravinsky", ["Bach", "Stravinsky"],
                        ["Bach", "Stravinsky"], [[4, 0], [0, 2]], [[1, 0], [0, 2]])


def prisoners_dilemma() -> Any:
    """Prisoner's dilemma stage game with LOLA's payoffs (the IPD of the learners).

    ``(C,C) = (-1,-1)``, ``(C,D) = (-3,0)``, ``(D,C) = (0,-3)``, ``(D,D) = (-2,-2)``.
    """
    return _matrix_game("prisoners_dilemma", "Prisoner's Dilemma (LOLA payoffs)",
                        ["Cooperate", "Defect"], ["Cooperate", "Defect"],
                        [[-1, -3], [0, -2]], [[-1, 0], [-3, -2]])


def _symmetric(row: Sequence[Sequence[float]], col_overrides: dict) -> tuple[list, list]:
    """Row payoffs and column payoffs of a symmetric game from Table 5's notation.

    A cell ``x`` means both players get ``x``; a cell ``x, y`` gives the row
    player ``x`` and the column player ``y`` (``col_overrides[(r, c)] = y``).
    """
    n = len(row)
    col = [[col_overrides.get((r, c), row[r][c]) for c in range(n)] for r in range(n)]
    return [list(r) for r in row], col


def nes_ce_counterexample() -> Any:
    """NES appendix Table 5(a): two games of chicken side by side (CE counterexample).

    The maximum-welfare CE plays only (1,2), (2,1) and (2,2), never the
    maximum-welfare joint action (4,4) (Appendix E).
    """
    row = [[-4, 2, -999, -999], [-2, 1, -999, -999],
           [-999, -999, -3, 2], [-999, -999, -2, 1.1]]
    row, col = _symmetric(row, {(0, 1): -2, (1, 0): 2, (2, 3): -2, (3, 2): 2})
    names = ["1", "2", "3", "4"]
    return _matrix_game("nes_ce_counterexample", "NES Table 5a CE counterexample",
                        names, names, row, col)


def nes_cce_counterexample() -> Any:
    """NES appendix Table 5(b): the CCE counterexample.

    The maximum-welfare CCE plays (1,1); minimum relative entropy to
    ``softmax(T W)`` tends to (2,2) = 0.2, (2,3) = (3,2) = 0.4 (Appendix E).
    """
    row = [[2, 0, 0, 0], [0, 3, 0, -10], [0, 3, -10, -10], [2, 7, -6, 0]]
    row, col = _symmetric(row, {(0, 3): 2, (1, 2): 3, (1, 3): 7, (2, 1): 0, (2, 3): -6,
                                (3, 0): 0, (3, 1): -10, (3, 2): -10})
    names = ["1", "2", "3", "4"]
    return _matrix_game("nes_cce_counterexample", "NES Table 5b CCE counterexample",
                        names, names, row, col)

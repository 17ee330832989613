"""Properties of the drawn figures: autoscaled axes, action names, rest bars, legends, log y."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import spielplatz as sp
from spielplatz_nes.plots import training_figure
from spielplatz.display.solution_plots import MIN_PROBABILITY, comparison_figure, solution_figure


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _solution(joint, players, actions, solver="maxent", game="g"):
    return SimpleNamespace(joint=np.asarray(joint, dtype=float), player_names=players,
                           action_names=actions, game=game, concept="ce", solver=solver,
                           gap=0.0, entropy=1.0)


def _ticks(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def _texts(fig):
    ax = fig.axes[0]
    return " ".join([fig._suptitle.get_text() if fig._suptitle else "", ax.get_title(),
                     ax.get_xlabel(), ax.get_ylabel()])


THREE = (["P1", "P2", "P3"], [["A", "B"], ["x", "y"], ["L", "R"]])


def test_three_player_support_names_actions_in_player_order_and_drops_near_zero_bars():
    joint = np.zeros((2, 2, 2))
    joint[0, 0, 0], joint[1, 1, 1], joint[0, 1, 1] = 0.6, 0.4 - 3e-9, 3e-9
    fig = solution_figure(_solution(joint, *THREE))
    ax = fig.axes[0]
    assert _ticks(ax) == ["(A, x, L)", "(B, y, R)"]                  # no bar of 3e-9
    assert "players: P1, P2, P3" in ax.get_title()
    assert "not shown: 6 more joint actions" in ax.get_title()
    assert [round(p.get_width(), 6) for p in ax.patches] == [0.6, 0.4]
    lo, hi = ax.get_xlim()
    assert lo == 0 and 0.6 < hi < 0.8                                 # autoscaled


def test_support_rest_bar_collects_small_probabilities():
    joint = np.full((2, 2, 2), 0.0004)
    joint[0, 0, 0] = 1 - 7 * 0.0004 - 0.0972 * 2
    joint[1, 0, 0] = joint[0, 1, 0] = 0.0972
    joint /= joint.sum()
    fig = solution_figure(_solution(joint, *THREE), max_bars=2)
    ticks = _ticks(fig.axes[0])
    assert ticks[0] == "(A, x, L)" and ticks[1] in ("(B, x, L)", "(A, y, L)")
    assert ticks[-1] == "rest (6)" and len(ticks) == 3
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths[-1] == pytest.approx(0.0972 + 5 * 0.0004, rel=1e-3)
    assert all(w >= MIN_PROBABILITY for w in widths)


def test_real_three_player_game_through_the_solver():
    game = sp.load_game("matching_pennies_3p")
    fig = solution_figure(sp.solve(game))
    labels = _ticks(fig.axes[0])
    assert len(labels) == 8 and all(lab.count(",") == 2 for lab in labels)
    assert set(labels[0].strip("()").split(", ")) <= {"Heads", "Tails"}
    assert "players: " + ", ".join(game.player_names) in fig.axes[0].get_title()


def test_comparison_axis_is_autoscaled_and_titled_by_solver():
    shape = (5, 5)
    a = np.full(shape, 0.05 / 24)
    a[0, 0] = 0.95
    b = np.full(shape, 1 / 25)
    players, actions = ["Row", "Col"], [list("abcde"), list("vwxyz")]
    fig = comparison_figure([_solution(b, players, actions),
                             _solution(b, players, actions, "welfare")],
                            ["maxent", "welfare"])
    ax = fig.axes[0]
    assert ax.get_xlim() != (0.0, 1.0) and ax.get_xlim()[1] < 0.06      # max prob 0.04
    assert "by solver" in ax.get_title() and "criterion" not in _texts(fig)
    assert ax.get_legend().get_title().get_text() == "solver"
    assert "players: Row, Col" in ax.get_title()
    assert "(a, v)" in _ticks(ax) and "(e, z)" in _ticks(ax)
    # the legend sits outside the data area (to the right of the axes)
    fig.canvas.draw()
    legend_box = ax.get_legend().get_window_extent()
    assert legend_box.x0 >= ax.get_window_extent().x1
    fig = comparison_figure([_solution(a, players, actions)], ["maxent"], max_profiles=4)
    ax = fig.axes[0]                                                   # 0.95, 3 of 0.002, rest
    assert _ticks(ax) == ["(a, v)", "(a, w)", "(a, x)", "(a, y)", "rest (21)"]
    assert ax.patches[-1].get_width() == pytest.approx(21 * 0.05 / 24)
    assert ax.get_xlim()[1] == pytest.approx(1.15 * 0.95)
    fig = comparison_figure([_solution(b, players, actions)], ["maxent"], max_profiles=3)
    ax = fig.axes[0]                          # a rest of 0.88 would dwarf the bars of 0.04
    assert len(_ticks(ax)) == 3 and ax.get_xlim()[1] < 0.05
    assert "not shown: 22 more profiles, together p = maxent 0.88" in ax.get_title()


def test_comparison_of_real_solvers_on_blotto_has_readable_labels():
    game = sp.load_game("blotto(coins=4,fields=3)")
    sols = [sp.solve(game, solver="maxent"), sp.solve(game, solver="welfare")]
    fig = comparison_figure(sols, ["maxent", "welfare"])
    ax = fig.axes[0]
    top = max(float(np.max(s.joint)) for s in sols)
    assert top < 0.2 and ax.get_xlim()[1] == pytest.approx(1.15 * top)
    names = game.action_names
    label = _ticks(ax)[0]
    assert label.startswith("(") and label.strip("()").split(", ")[0] in names[0]
    # horizontal bars: labels are level and one row apart, so they cannot collide
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.get_yticklabels()]
    assert all(b1.y0 >= b2.y1 - 0.5 or b2.y0 >= b1.y1 - 0.5
               for b1, b2 in zip(boxes, boxes[1:]))


def test_training_loss_is_on_a_log_scale():
    history = [{"step": s, "loss": 100.0 * 0.5 ** (s / 10), "gap": 1 / s,
                "uniform_gap": 0.7} for s in range(10, 200, 10)]
    fig = training_figure(history, "t")
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "log"]
    history[3]["loss"] = -0.5                       # a loss below zero: symmetric log
    assert training_figure(history).axes[0].get_yscale() == "symlog"


def test_learn_plot_legends_outside_and_bands_in_distinct_colours():
    from matplotlib.colors import to_hex

    from spielplatz_d3c.plots import runs_figure     # the figure d3c declares

    run = sp.learn("braess", learner="d3c", steps=40, seeds=range(4))
    fig = runs_figure([run])
    fig.canvas.draw()
    for ax in fig.axes:
        legend = ax.get_legend()
        assert legend is not None
        box, area = legend.get_window_extent(), ax.get_window_extent()
        assert box.y1 <= area.y0                                     # under the panel
    attention = fig.axes[2]
    bands = attention.collections
    colours = {to_hex(c.get_facecolor()[0], keep_alpha=False) for c in bands}
    assert len(bands) == 4 and len(colours) == 4                    # one colour per agent
    assert all(c.get_facecolor()[0][3] <= 0.2 for c in bands)
    labels = [t.get_text() for t in attention.get_legend().get_texts()]
    assert labels == [f"agent {i}" for i in range(4)]

"""The neural MWMRE (C)CE solver (issue 4): games, scaling, network, training, solver, CLI.

CI-sized: tiny networks on small games. Full trainings are marked ``slow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.equilibria import deviations, mwmre, scaling

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from spielplatz_nes import parameterizations as pz  # noqa: E402
from spielplatz_nes.checkpoint import CheckpointError  # noqa: E402
from spielplatz_nes.core import ModelConfig, TrainConfig, batch_loss, \
    init_variables  # noqa: E402
from spielplatz_nes.training import Trainer  # noqa: E402
from spielplatz_random.distributions import CLASSES, GRAPHS, sample  # noqa: E402

TINY = {"payoff_channels": (6, 6), "dual_channels": 6, "dual_layers": (6,)}
ROOT = Path(__file__).resolve().parents[1]


# -- game distributions -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (2, 3, 2)])
def test_every_class_samples_finite_seeded_games(name, shape):
    a = sample(name, shape, 4, seed=7)
    b = sample(name, shape, 4, seed=7)
    c = sample(name, shape, 4, seed=8)
    assert a.shape == (4, len(shape)) + shape
    assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) or name in ("travelers_dilemma",)


@pytest.mark.parametrize("name,m", [("l1_invariant", 1), ("l2_invariant", 2),
                                    ("linf_invariant", "inf")])
def test_invariant_classes_lie_on_the_invariant_subspace(name, m):
    g = sample(name, (3, 4), 50, seed=1)
    flat = g.reshape(50, 2, -1)
    np.testing.assert_allclose(flat.mean(axis=2), 0.0, atol=1e-12)
    order = {1: 1, 2: 2, "inf": np.inf}[m]
    np.testing.assert_allclose(np.linalg.norm(flat, ord=order, axis=2),
                               scaling.z_norm(12, m), rtol=1e-12)


def test_l2_invariant_is_isotropic_on_the_sphere():
    # Uniform on the sphere of the zero-mean subspace: every coordinate has the same
    # variance and pairwise correlations are -1/(n-1) (the projection's).
    g = sample("l2_invariant", (2, 2), 20000, seed=0)[:, 0].reshape(20000, 4)
    cov = np.cov(g.T)
    np.testing.assert_allclose(np.diag(cov), 1.0, atol=0.05)
    off = cov[~np.eye(4, dtype=bool)]
    np.testing.assert_allclose(off, -1.0 / 3.0, atol=0.05)


def test_named_random_games_through_load_game():
    g = sp.load_game("l2_invariant(shape=8x8,seed=3)")
    assert g.shape == (8, 8) and g.name == "l2_invariant(shape=8x8,seed=3)"
    np.testing.assert_array_equal(g.payoffs, sample("l2_invariant", "8x8", 1, seed=3)[0])
    g3 = sp.load_game("polymatrix_game(shape=3x3x3,graph=road,seed=1)")
    assert g3.num_players == 3
    with pytest.raises(sp.GameError, match="no parameter 'sed'"):
        sp.load_game("l2_invariant(shape=8x8,sed=3)")
    with pytest.raises(sp.GameError, match="graph"):
        sp.load_game("graphical_game(shape=3x3,graph=moon)")


@pytest.mark.parametrize("graph", GRAPHS)
def test_graph_games_depend_only_on_neighbours(graph):
    # A graphical game's payoff for a player ignores non-neighbours (star: leaves
    # only see the centre).
    g = sample("graphical_game", (2, 2, 2, 2), 1, seed=4, graph="star")[0]
    leaf = g[1]                                   # player 1's payoffs
    # does not depend on players 2, 3
    np.testing.assert_allclose(leaf, np.broadcast_to(leaf[:, :, :1, :1], leaf.shape))
    sample("polymatrix_game", (3, 3, 3), 2, seed=0, graph=graph)


def test_batch_sampler_is_registered_without_importing_numpy():
    code = ("import sys; from spielplatz.plugins.host import get_host; "
            "e = get_host().registry('game').get('l2_invariant'); "
            "print(e.meta['batch_sampler']); "
            "print(any(m in sys.modules for m in ('numpy', 'jax', 'flax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["spielplatz_random.named:batch_l2_invariant", "False"]


def test_cli_import_stays_light():
    code = ("import sys; import spielplatz.cli.main; "
            "print(sorted(m for m in ('jax', 'flax', 'optax', 'matplotlib', 'scipy', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


# -- unit-variance scaling (Appendix B) -------------------------------------------------

def test_unit_variance_scaling_is_invertible_and_invariant():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(2, 3, 4)) * 7 + 3
    scaled, scl = scaling.unit_variance(g)
    np.testing.assert_allclose(scl.invert(scaled), g, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(scaled.reshape(2, -1), axis=1), np.sqrt(12))
    # eq. (16a) is invariant to per-player offset and positive scale
    g2 = g * np.array([2.0, 0.5])[:, None, None] + np.array([-4.0, 9.0])[:, None, None]
    np.testing.assert_allclose(scaling.unit_variance(g2)[0], scaled, atol=1e-12)
    # epsilons (16b) map like deviation gains
    joint = rng.dirichlet(np.ones(12)).reshape(3, 4)
    eps = np.asarray(deviations.epsilons(g, joint, "ce"))
    eps_scaled = np.asarray(deviations.epsilons(scaled, joint, "ce"))
    np.testing.assert_allclose(scl.scale_epsilon(eps, clip=False), eps_scaled, atol=1e-12)
    np.testing.assert_allclose(scl.unscale_epsilon(eps_scaled), eps, atol=1e-12)
    # batched, numpy and jax agree
    batch = rng.normal(size=(5, 2, 3, 4))
    b_np = scaling.project_invariant(batch, num_players=2)
    b_jx = scaling.project_invariant(jnp.asarray(batch), num_players=2)
    np.testing.assert_allclose(np.asarray(b_jx), b_np, rtol=1e-5, atol=1e-5)


def test_scaling_constant_player_and_constants():
    g = np.zeros((2, 2, 2))
    g[1] = [[1.0, 2.0], [3.0, 4.0]]
    scaled, scl = scaling.unit_variance(g + 5.0)
    assert np.all(scaled[0] == 0) and scl.scale[0] == 1.0
    np.testing.assert_allclose(scl.invert(scaled), g + 5.0)
    assert scaling.z_norm(64, 2) == 8.0
    np.testing.assert_allclose(scaling.z_sigma(4), 4 * np.sqrt(5 / 3))
    # eq. (16d): the flat Dirichlet's elements get unit variance
    d = np.random.default_rng(0).dirichlet(np.ones(16), size=20000)
    assert abs(scaling.scale_target_joint(d, 1).var() - 1.0) < 0.05


# -- network equivariance ----------------------------------------------------------------

def _net(concept, shape, channels=1, full=False):
    from spielplatz_nes.network import NESNetwork

    net = NESNetwork(concept=concept, payoff_channels=(8, 8), dual_channels=8,
                     dual_layers=(8,), full_payoff_pooling=full)
    x = jax.random.normal(jax.random.PRNGKey(0), (4, len(shape)) + shape + (channels,))
    variables = net.init(jax.random.PRNGKey(1), x)
    # non-trivial batch statistics, then evaluation mode
    _, upd = net.apply(variables, x, train=True, mutable=["batch_stats"])
    variables = {"params": variables["params"], **upd}
    return jax.jit(net.apply), variables, x


def _permute_duals(duals, concept, player_perm, action_perms):
    out = []
    for new_p, old_p in enumerate(player_perm):
        d = duals[old_p]
        perm = action_perms[old_p]
        d = d[:, perm]
        if concept == "ce":
            d = d[:, :, perm]
        out.append(d)
    return out


@pytest.mark.parametrize("concept,shape,full", [
    ("ce", (3, 3), False), ("cce", (3, 3), False), ("ce", (2, 2, 2), False),
    ("cce", (2, 2, 2), False), ("cce", (3, 3), True)])
def test_network_is_action_and_player_equivariant(concept, shape, full):
    apply, variables, x = _net(concept, shape, full=full)
    base = apply(variables, x)
    rng = np.random.default_rng(0)
    n = len(shape)
    perms = [list(range(n)), list(range(n))[::-1], [1, 0] + list(range(2, n))]
    for player_perm in perms:
        action_perms = [rng.permutation(a) for a in shape]
        y = x
        for p, perm in enumerate(action_perms):
            y = jnp.take(y, perm, axis=2 + p)
        y = y[:, list(player_perm)]
        y = jnp.transpose(y, [0, 1] + [2 + i for i in player_perm] + [2 + n])
        got = apply(variables, y)
        want = _permute_duals(base, concept, player_perm, action_perms)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_network_non_cube_games_and_output_constraints(concept):
    shape = (2, 4)
    apply, variables, x = _net(concept, shape)
    duals = apply(variables, x)
    assert [d.shape for d in duals] == ([(4, 2, 2), (4, 4, 4)] if concept == "ce"
                                        else [(4, 2), (4, 4)])
    assert all(bool(jnp.all(d >= 0)) for d in duals)
    if concept == "ce":
        assert all(float(jnp.abs(jnp.diagonal(d, axis1=1, axis2=2)).max()) == 0 for d in duals)
    # action equivariance for player 1 of a non-square game
    perm = np.array([3, 1, 0, 2])
    got = apply(variables, jnp.take(x, perm, axis=3))
    want = duals[1][:, perm][:, :, perm] if concept == "ce" else duals[1][:, perm]
    np.testing.assert_allclose(np.asarray(got[1]), np.asarray(want), rtol=2e-4, atol=2e-5)


def test_default_architecture_is_section_d1():
    from spielplatz_nes.network import count_parameters

    cfg = ModelConfig(concept="cce", shape=(8, 8))
    assert cfg.payoff_channels == (32,) * 5 and cfg.dual_channels == 64
    assert cfg.dual_layers == (32, 32)
    shapes = jax.eval_shape(lambda k: init_variables(cfg, k), jax.random.PRNGKey(0))
    n = count_parameters(shapes["params"])
    assert 50_000 < n < 200_000          # paper: 79,905 (our layers carry self/all weights)


# -- parameterizations (Table 3) ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(pz.PARAMETERIZATIONS))
def test_parameterizations_sample_and_give_finite_losses(name):
    param = pz.get(name)
    shape = (3, 3)
    cfg = ModelConfig(concept="cce", shape=shape, parameterization=name, **TINY)
    problem = pz.sample_problem(jax.random.PRNGKey(0), param, shape, 8)
    z = scaling.z_norm(9, 2)
    eps = np.asarray(problem["target_epsilon"])
    if param.target_epsilon == "zero":
        assert np.all(eps == 0)
    elif param.target_epsilon == "min":
        np.testing.assert_allclose(eps, -z)
    else:
        assert np.all((eps > -z) & (eps < z)) and eps.std() > 0
    prior = np.exp(np.asarray(problem["log_prior"])).reshape(8, -1)
    np.testing.assert_allclose(prior.sum(1), 1.0, rtol=1e-5)
    assert (prior.std(axis=1) > 1e-3).all() == param.uses_target_joint
    assert bool(np.any(np.asarray(problem["welfare"]) != 0)) == param.uses_welfare
    x = pz.features(problem, param)
    assert x.shape == (8, 2, 3, 3, pz.input_channels(param))
    duals = [jax.random.uniform(jax.random.PRNGKey(p), (8, 3)) for p in range(2)]
    losses = batch_loss(cfg, problem, duals)
    assert losses.shape == (8,) and bool(jnp.all(jnp.isfinite(losses)))
    # the batched loss is the host's mwmre.loss, game by game
    g0 = problem["payoffs"][0]
    want = mwmre.loss(g0, [d[0] for d in duals], "cce", target_epsilon=problem["target_epsilon"][0],
                      eps_plus=z, rho=param.rho, log_prior=problem["log_prior"][0],
                      welfare=problem["welfare"][0], mu=param.mu)
    np.testing.assert_allclose(float(losses[0]), float(want), rtol=1e-5)


def test_parameterization_names():
    assert pz.get("me").name == "ME"
    assert pz.get("ε̂-MWME").name == "eps-MWME" and pz.get("eps_mre").name == "eps-MRE"
    with pytest.raises(ValueError, match="unknown parameterization"):
        pz.get("XY")
    assert {"ME", "MRE", "MWME", "MS", "eps-ME", "eps-MWME", "eps-MRE"} <= set(pz.PARAMETERIZATIONS)


# -- training: devices, resume, checkpoints -------------------------------------------------

def _tiny(concept="cce", shape=(3, 3), **train):
    # One model/training configuration for all training tests: one compilation.
    mc = ModelConfig(concept=concept, shape=shape, **TINY)
    tc = TrainConfig(**{"steps": 6, "batch_size": 16, "log_every": 1, "checkpoint_every": 3,
                        "learning_rate": 1e-3, "schedule_scale": 1e-5, **train})
    return mc, tc


GRADIENT_SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    from spielplatz_nes import parameterizations as pz
    from spielplatz_nes.core import ModelConfig, apply_network, batch_loss, init_variables
    mc = ModelConfig(concept="cce", shape=(3, 3), payoff_channels=(6, 6), dual_channels=6,
                     dual_layers=(6,))
    f64 = lambda t: jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), t)
    variables = f64(init_variables(mc, jax.random.PRNGKey(1)))
    problem = f64(pz.sample_problem(jax.random.PRNGKey(5), mc.param, mc.shape, 16))

    @jax.jit
    def loss(params):
        duals, _ = apply_network(mc, {**variables, "params": params}, problem, train=True)
        return batch_loss(mc, problem, duals).mean()

    grad = jax.jit(jax.grad(loss))(variables["params"])
    worst = 0.0
    for layer, name in [("PayoffsLayer_0", "18a"), ("PayoffsLayer_1", "18k_self"),
                        ("PayoffsToDuals_0", "row"), ("CCEDualsLayer_0", "19b")]:
        k = variables["params"][layer][name]["kernel"]
        for idx in [(0, 0), (k.shape[0] - 1, k.shape[1] - 1)]:
            def at(delta):
                p = jax.tree_util.tree_map(lambda a: a, variables["params"])
                p[layer] = dict(p[layer]); p[layer][name] = dict(p[layer][name])
                p[layer][name]["kernel"] = k.at[idx].add(delta)
                return float(loss(p))
            numeric = (at(1e-6) - at(-1e-6)) / 2e-6
            analytic = float(grad[layer][name]["kernel"][idx])
            worst = max(worst, abs(numeric - analytic) / max(abs(numeric), 1e-3))
    print(worst)
""")


def test_jitted_gradient_matches_finite_differences():
    """Guards the hand-written BatchNorm (see spielplatz_nes.network.BatchNorm): on
    jax 0.10.2 (CPU) the jitted gradient through concatenate -> flax BatchNorm -> slice
    was off by up to 100% in the hidden layers. Float64 central differences, in a
    subprocess (x64 is a process-wide switch)."""
    out = subprocess.run([sys.executable, "-c", GRADIENT_SCRIPT], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip().splitlines()[-1]) < 1e-5


def test_training_reduces_the_loss():
    mc, tc = _tiny(steps=30, log_every=10)
    history = Trainer(mc, tc).run()
    assert history[-1]["loss"] < history[0]["loss"]
    assert all(np.isfinite(h["gap"]) for h in history)


DEVICE_SCRIPT = textwrap.dedent("""
    import json, sys, jax
    from spielplatz_nes.core import ModelConfig, TrainConfig
    from spielplatz_nes.training import Trainer
    mc = ModelConfig(concept="cce", shape=(3, 3), payoff_channels=(6, 6), dual_channels=6,
                     dual_layers=(6,))
    tc = TrainConfig(steps=6, batch_size=16, log_every=1, checkpoint_every=3,
                     learning_rate=1e-3, schedule_scale=1e-5)
    fresh = Trainer(mc, tc)
    at_init = fresh.evaluate()
    h = fresh.run()
    other = Trainer(mc, tc, out=sys.argv[1])      # the 1-device run's checkpoint (step 6)
    assert other.resume()
    print(json.dumps({"devices": len(jax.devices()), "loss": [r["loss"] for r in h],
                      "init": at_init, "trained": other.evaluate()}))
""")


def test_eight_devices_give_the_same_loss_as_one(tmp_path):
    """Same state, same batch: 8-device and 1-device loss and gradient agree to float32
    tolerance, and so do the whole training curves."""
    mc, tc = _tiny()
    one = Trainer(mc, tc, out=tmp_path / "one", devices=jax.devices()[:1])
    at_init = one.evaluate()
    curve = one.run()
    trained = one.evaluate()
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", DEVICE_SCRIPT, str(tmp_path / "one")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    eight = json.loads(out.stdout.strip().splitlines()[-1])
    assert eight["devices"] == 8
    for mine, theirs in ((at_init, eight["init"]), (trained, eight["trained"])):
        assert theirs["loss"] == pytest.approx(mine["loss"], rel=1e-5, abs=1e-6)
        assert theirs["grad_norm"] == pytest.approx(mine["grad_norm"], rel=1e-4)
    assert eight["loss"][0] == pytest.approx(curve[0]["loss"], rel=1e-5)
    np.testing.assert_allclose(eight["loss"], [r["loss"] for r in curve], rtol=1e-4)


def test_resumed_training_repeats_the_uninterrupted_loss_curve(tmp_path):
    mc, tc = _tiny()
    full = Trainer(mc, tc).run()
    first = Trainer(mc, tc, out=tmp_path / "run")
    first.run(3)                                   # interrupted after a checkpoint
    second = Trainer(mc, tc, out=tmp_path / "run")
    assert second.resume() and second.step == 3
    resumed = second.run()
    assert [r["step"] for r in resumed] == [r["step"] for r in full]
    np.testing.assert_allclose([r["loss"] for r in resumed], [r["loss"] for r in full],
                               rtol=1e-6, atol=1e-7)
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_time_limit_stops_at_a_checkpoint_that_resumes_the_same_curve(tmp_path, monkeypatch):
    """``run(time_limit=...)`` ends at the end of a ``log_every`` window with a checkpoint;
    the host reads the metrics once per window (or checkpoint), and every step still
    reaches the callback, in order."""
    import jax

    mc, tc = _tiny(log_every=4)                    # checkpoint_every=3
    full = []
    Trainer(mc, tc).run(callback=lambda s, m: full.append(m["loss"]))
    reads = []
    real = jax.device_get
    monkeypatch.setattr(jax, "device_get",
                        lambda x: (reads.append(isinstance(x, list)), real(x))[1])
    seen = []
    first = Trainer(mc, tc, out=tmp_path / "run")
    first.run(time_limit=0.0, callback=lambda s, m: seen.append((s, m["loss"])))
    assert first.step == 4 and [s for s, _ in seen] == [1, 2, 3, 4]
    second = Trainer(mc, tc, out=tmp_path / "run")
    assert second.resume() and second.step == 4
    second.run(callback=lambda s, m: seen.append((s, m["loss"])))
    assert [s for s, _ in seen] == list(range(1, tc.steps + 1))
    assert sum(reads) == 3                         # steps 3 and 4, then 5-6: not 6 reads
    np.testing.assert_allclose([loss for _, loss in seen], full, rtol=1e-6, atol=1e-7)
    assert [r["step"] for r in second.history] == [4, 6]
    with pytest.raises(ValueError, match="time_limit"):
        second.run(steps=8, time_limit=float("nan"))


def test_divergence_inside_a_window_names_its_first_step_and_keeps_the_checkpoint(tmp_path):
    """Metrics are read once per window: a non-finite step inside it is still reported
    as itself, and the checkpoint written before it is left as it was."""
    import jax

    from spielplatz_nes.training import TrainingDivergedError

    mc, tc = _tiny(log_every=4, steps=12)          # checkpoint_every=3: not a multiple
    trainer = Trainer(mc, tc, out=tmp_path / "run")
    trainer.run(steps=3)
    good = (tmp_path / "run" / "checkpoint.msgpack").read_bytes()
    trainer.state = dict(trainer.state, params=jax.tree_util.tree_map(
        lambda x: x * np.nan, trainer.state["params"]))
    with pytest.raises(TrainingDivergedError, match=r"stopped at step 4: .*\(step 3\) is kept"):
        trainer.run(steps=12)
    assert (tmp_path / "run" / "checkpoint.msgpack").read_bytes() == good


def test_corrupt_and_mismatched_checkpoints_are_clear_errors(tmp_path):
    mc, tc = _tiny()
    Trainer(mc, tc, out=tmp_path / "run").run()
    path = tmp_path / "run" / "checkpoint.msgpack"
    # mismatched model or training configuration
    other_mc, _ = _tiny(concept="ce")
    with pytest.raises(CheckpointError, match="another configuration.*concept"):
        Trainer(other_mc, tc, out=tmp_path / "run").resume()
    _, other_tc = _tiny(batch_size=8)
    with pytest.raises(CheckpointError, match="batch_size"):
        Trainer(mc, other_tc, out=tmp_path / "run").resume()
    # more steps is fine (resuming a longer run)
    _, longer = _tiny(steps=9)
    assert Trainer(mc, longer, out=tmp_path / "run").resume()
    # train-solver's own check (no jax, before its progress bar) finds the same mismatch
    from spielplatz_nes.checkpoint import check_training

    with pytest.raises(CheckpointError, match="another configuration.*concept"):
        check_training(tmp_path / "run", other_mc, tc)
    assert check_training(tmp_path / "run", mc, longer)["kind"] == "training"
    # fewer steps than the checkpoint holds: refused, not a run past its own end
    _, shorter = _tiny(steps=4)
    with pytest.raises(CheckpointError, match="the checkpoint is at step 6, past the 4 steps "
                                              "asked for; give more steps to continue it"):
        check_training(tmp_path / "run", mc, shorter)
    # the state's own step, not the last logged one (logs may be sparser than saves)
    record = check_training(tmp_path / "run", mc, longer)
    assert json.loads(record["extra"])["step"] == 6
    from click.testing import CliRunner

    from spielplatz.cli.main import cli
    result = CliRunner().invoke(cli, ["train-solver", "--shape", "2x2", "--steps", "1",
                                      "--out", str(tmp_path / "run")])
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.output     # no progress line
    assert "checkpoint was made for another configuration" in lines[0]
    # flipped bytes, truncation, garbage
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        Trainer(mc, tc, out=tmp_path / "run").resume()
    path.write_bytes(bytes(data[: len(data) // 3]))
    with pytest.raises(CheckpointError, match="corrupt"):
        Trainer(mc, tc, out=tmp_path / "run").resume()
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        Trainer(mc, tc, out=tmp_path / "run").resume()
    # and through the solver
    with pytest.raises(sp.SpielplatzError, match="corrupt"):
        sp.solve(sp.load_game("l2_invariant(shape=3x3,seed=0)"), solver="nes", concept="cce",
                 model=str(tmp_path / "run"))


def test_batch_size_must_divide_over_devices():
    """With 8 (forced) CPU devices, a batch of 9 games is refused with a clear error."""
    code = ("import sys\n"
            f"sys.path.insert(0, {str(os.path.dirname(os.path.abspath(__file__)))!r})\n"
            "import jax\n"
            "from test_nes import Trainer, _tiny\n"
            "mc, tc = _tiny(batch_size=9)\n"
            "try:\n"
            "    Trainer(mc, tc)\n"
            "except ValueError as exc:\n"
            "    print('REFUSED', len(jax.devices()), exc)\n")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "REFUSED 8" in out.stdout and "not divisible" in out.stdout, out.stdout[-500:]


# -- the solver with a shipped model --------------------------------------------------------------

def _exact(payoffs, concept):
    return sp.solve_batch(payoffs, solver="maxent", concept=concept).joints


def test_shipped_models_are_small_and_listed():
    from spielplatz_nes.model import shipped_models

    models = shipped_models()
    assert {"me_cce_8x8", "me_ce_8x8", "me_cce_2x2", "me_ce_2x2", "me_cce_3x3x3",
            "me_ce_3x3x3"} <= set(models)
    for folder in models.values():
        assert (folder / "model.msgpack").stat().st_size < 3_000_000
    # an alternative model is loaded by name only, never chosen by default
    from spielplatz_nes.model import find_model, load_model

    assert "me_cce_8x8_wide" in models and find_model("cce", (8, 8)) == "me_cce_8x8"
    assert load_model(None, concept="cce", shape=(8, 8)).config.payoff_channels == (16, 16, 16)
    assert load_model("me_cce_8x8_wide", concept="cce",
                      shape=(8, 8)).config.payoff_channels == (32, 32, 32)


def test_nes_solves_a_game_and_says_it_is_approximate():
    game = sp.load_game("l2_invariant(shape=8x8,seed=11)")
    sol = sp.solve(game, solver="nes", concept="cce")
    assert sol.status == "approximate" and sol.solver == "nes"
    assert sol.joint.shape == (8, 8) and abs(sol.joint.sum() - 1) < 1e-9
    assert sol.gap == pytest.approx(float(deviations.gap(game.payoffs, sol.joint, "cce")))
    # payoff offset and positive scale do not change the answer (Appendix B)
    shifted = game.with_payoffs(game.payoffs * 3.0 + 7.0)
    np.testing.assert_allclose(sp.solve(shifted, solver="nes", concept="cce").joint, sol.joint,
                               atol=1e-5)
    with pytest.raises(sp.SpielplatzError, match="no shipped ME model for CCE in 5x5"):
        sp.solve(sp.load_game("l2_invariant(shape=5x5,seed=0)"), solver="nes", concept="cce")
    with pytest.raises(sp.SpielplatzError, match="unknown option"):
        sp.solve(game, solver="nes", concept="cce", bogus=1)


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_nes_solves_chicken_and_refines_to_maxent(concept):
    approx = sp.solve("chicken", solver="nes", concept=concept)
    assert approx.status == "approximate" and approx.gap < 0.2
    # symmetric game, equivariant network: symmetric answer
    np.testing.assert_allclose(approx.joint, approx.joint.T, atol=1e-6)
    refined = sp.solve("chicken", solver="nes", concept=concept, refine="auto")
    exact = sp.solve("chicken", solver="maxent", concept=concept)
    assert refined.status == "optimal"
    assert np.abs(refined.joint - exact.joint).sum() < 1e-6


def test_shipped_cce_model_on_fresh_l2_games_fast():
    """The acceptance test on 200 games (the 1000-game version is marked slow)."""
    _acceptance("cce", 200)


@pytest.mark.slow
@pytest.mark.parametrize("concept", [
    "cce",
    pytest.param("ce", marks=pytest.mark.xfail(
        reason="the shipped CE model is weak (gap ratio ~2, solver gap ~0.33; docs/nes.md)",
        strict=False)),
])
def test_shipped_model_acceptance_1000_games(concept):
    _acceptance(concept, 1000)


def _acceptance(concept, n):
    payoffs = sample("l2_invariant", "8x8", n, seed=20260)      # unseen in training
    res = sp.solve_batch(payoffs, solver="nes", concept=concept)
    uniform = np.full((8, 8), 1 / 64)
    gaps = np.asarray(res.gaps)
    ugaps = np.array([float(deviations.gap(p, uniform, concept)) for p in payoffs])
    solver_gap = 0.5 * np.abs(res.joints - _exact(payoffs, concept)).reshape(n, -1).sum(1)
    assert gaps.mean() * 10 <= ugaps.mean(), (gaps.mean(), ugaps.mean())
    assert solver_gap.mean() < 0.1, solver_gap.mean()


@pytest.mark.parametrize("name,concept,shape,ratio,solver_gap", [
    ("me_cce_3x3", "cce", "3x3", 8.0, 0.12), ("me_ce_3x3", "ce", "3x3", 4.5, 0.22),
    ("me_cce_2x2", "cce", "2x2", 20.0, 0.12), ("me_ce_2x2", "ce", "2x2", 20.0, 0.1),
    ("me_cce_3x3x3", "cce", "3x3x3", 7.5, 0.05), ("me_ce_3x3x3", "ce", "3x3x3", 3.5, 0.12)])
def test_small_shipped_models_keep_their_measured_quality(name, concept, shape, ratio,
                                                          solver_gap):
    """Regression guard for the small shipped models (docs/nes.md, 1000-game table):
    gap ratio to the uniform joint and solver gap on 300 fresh games, with margin."""
    dims = tuple(int(a) for a in shape.split("x"))
    payoffs = sample("l2_invariant", shape, 300, seed=20260)
    res = sp.solve_batch(payoffs, solver="nes", concept=concept, model=name)
    uniform = np.full(dims, 1 / np.prod(dims))
    ugaps = np.array([float(deviations.gap(p, uniform, concept)) for p in payoffs])
    sg = 0.5 * np.abs(res.joints - _exact(payoffs, concept)).reshape(300, -1).sum(1)
    assert ugaps.mean() / res.gaps.mean() >= ratio, ugaps.mean() / res.gaps.mean()
    assert sg.mean() < solver_gap, sg.mean()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_refinement_reaches_the_exact_maxent_answer(seed):
    game = sp.load_game(f"l2_invariant(shape=8x8,seed={100 + seed})")
    sol = sp.solve(game, solver="nes", concept="cce", refine="auto")
    exact = sp.solve(game, solver="maxent", concept="cce")
    assert np.abs(sol.joint - exact.joint).sum() < 1e-6
    assert sol.status == "optimal" and sol.extra["refine_iterations"] <= 15


def test_refinement_in_batches_matches_maxent():
    payoffs = sample("covariant_game", "8x8", 6, seed=3)
    res = sp.solve_batch(payoffs, solver="nes", concept="cce", refine="auto")
    exact = _exact(payoffs, "cce")
    assert np.abs(res.joints - exact).reshape(6, -1).sum(1).max() < 1e-6
    assert set(res.statuses) == {"optimal"}
    assert res.solver == "nes" and res.config["refine"] == "auto"
    assert res.extra["network_time"] > 0 and res.extra["refine_time"] > 0


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_refinement_is_maxent_warm_started_from_the_network(concept):
    """Refinement hands the network's duals to maxent as a warm start: the same
    certified answer as a cold maxent solve, in fewer Newton iterations."""
    from spielplatz_nes.model import load_model
    from spielplatz_nes.solver import warm_start

    payoffs = sample("l2_invariant", "8x8", 64, seed=5)
    maxent = sp.get_solver("maxent")
    cold = maxent.solve_batch(payoffs, concept)
    pred = load_model(None, concept=concept, shape=(8, 8)).predict(payoffs)
    warm = maxent.solve_batch(payoffs, concept, initial_duals=warm_start(pred.duals))
    assert warm.all_optimal and cold.all_optimal
    assert np.abs(warm.joints - cold.joints).reshape(64, -1).sum(1).max() < 1e-6
    assert warm.iterations.mean() < cold.iterations.mean()
    # warm_start zeroes the duals below a tenth of each game's largest one
    started = warm_start(pred.duals)
    top = np.max([d.reshape(64, -1).max(1) for d in pred.duals], axis=0)
    for d, s in zip(pred.duals, started):
        kept = s.reshape(64, -1) > 0
        assert np.all(d.reshape(64, -1)[kept] > 0.1 * np.repeat(top, kept.shape[1]).reshape(
            kept.shape)[kept])
        assert np.all((s == d) | (s == 0))


def test_warm_start_judges_duals_on_the_scaled_game():
    """A player with large payoffs has small payoff-unit duals; the 10% cut is made on
    the scaled game's duals, so that player keeps its warm start."""
    from spielplatz_nes.model import load_model
    from spielplatz_nes.solver import warm_start

    payoffs = sample("l2_invariant", "8x8", 64, seed=8)
    payoffs[:, 1] *= 50.0
    pred = load_model(None, concept="cce", shape=(8, 8)).predict(payoffs)
    started = warm_start(pred.duals, reference=pred.scaled_duals)
    kept = [float((d > 0).mean()) for d in started]
    assert min(kept) > 0.1, kept
    unscaled = [float((d > 0).mean()) for d in warm_start(pred.duals)]
    assert unscaled[1] < 0.02          # judged in payoff units, player 2 would lose them
    maxent = sp.get_solver("maxent")
    cold = maxent.solve_batch(payoffs, "cce")
    warm = maxent.solve_batch(payoffs, "cce", initial_duals=started)
    assert warm.iterations.mean() < cold.iterations.mean() - 1


def test_refinement_solves_the_networks_own_problem_for_welfare_models():
    """MU models: the welfare is the sum of the *scaled* payoffs (what the network saw);
    refinement solves that problem exactly, whatever the players' payoff scales."""
    import jax

    from spielplatz.equilibria import scaling
    from spielplatz_nes.core import ModelConfig, init_variables
    from spielplatz_nes.model import TrainedModel
    from spielplatz_nes.solver import NESSolver

    cfg = ModelConfig(concept="cce", shape=(3, 3), parameterization="MU",
                      payoff_channels=(4,), dual_channels=4, dual_layers=())
    model = TrainedModel(cfg, init_variables(cfg, jax.random.PRNGKey(0)), name="mu-test")
    payoffs = sample("l2_invariant", "3x3", 6, seed=4)
    payoffs[:, 1] = payoffs[:, 1] * 20.0 + 3.0
    pred = model.predict(payoffs)
    options = NESSolver._exact_options(pred, model, 200, 1e-10)
    res = mwmre.solve_batch(payoffs, "cce", **options)
    scaled, _ = scaling.unit_variance(payoffs, m=2, num_players=2)
    for i in range(6):
        ref = sp.solve(sp.NormalFormGame(payoffs[i]), solver="maxent", concept="cce",
                       mu=cfg.param.mu, welfare=scaled[i].sum(axis=0))
        np.testing.assert_allclose(res.joints[i], ref.joint, atol=1e-6)
    with pytest.raises(sp.SpielplatzError, match=r"takes no welfare input \(its welfare is"):
        model.predict(payoffs, welfare=np.ones((3, 3)))


def test_refine_with_a_step_budget_reports_approximate_when_not_certified():
    game = sp.load_game("l2_invariant(shape=8x8,seed=101)")
    sol = sp.solve(game, solver="nes", concept="ce", refine=1)
    assert sol.config["refine"] == 1 and sol.iterations == 1
    assert sol.status == "approximate"
    with pytest.raises(sp.SpielplatzError, match="at most 80 Newton steps"):
        sp.solve(game, solver="nes", concept="ce", refine=81)
    batch = sp.solve_batch(sample("l2_invariant", "8x8", 8, seed=2), solver="nes",
                           concept="ce", refine=1)
    assert "approximate" in batch.statuses and batch.iterations.max() <= 1
    with pytest.raises(sp.SpielplatzError, match="refine must be a number of steps"):
        sp.solve(game, solver="nes", concept="ce", refine="soon")


# -- command line --------------------------------------------------------------------------

def test_train_solve_and_evaluate_through_the_cli(tmp_path):
    from click.testing import CliRunner

    from spielplatz.cli import cli

    out = tmp_path / "model"
    runner = CliRunner()
    args = ["train-solver", "--concept", "cce", "--shape", "3x3", "--steps", "4",
            "--batch-size", "8", "--architecture", "4,4/4/4", "--out", str(out)]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "loss" in res.output and "model:" in res.output
    for name in ("metrics.json", "training.png", "model.msgpack", "checkpoint.msgpack"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics[-1]["step"] == 4 and {"loss", "gap", "uniform_gap"} <= set(metrics[-1])
    # a second call resumes and trains further
    res = runner.invoke(cli, args[:6] + ["6"] + args[7:] + ["--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["resumed_from"] == 4
    res = runner.invoke(cli, ["solve", "l2_invariant(shape=3x3,seed=1)", "--solver", "nes",
                              "--concept", "cce", "-o", f"model={out}", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["status"] == "approximate"
    res = runner.invoke(cli, ["evaluate-solver", "--model", str(out), "--games", "5",
                              "--classes", "l2_invariant,polymatrix_game(graph=star)", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    row = data["classes"]["polymatrix_game(graph=star)"]
    assert {"gap", "uniform_gap", "solver_gap", "nes_games_per_s", "maxent_games_per_s"} <= set(row)
    assert 0 <= row["solver_gap"]["mean"] <= 1
    # errors are one line
    res = runner.invoke(cli, ["train-solver", "--shape", "3x3", "--parameterization", "XY",
                              "--out", str(tmp_path / "x")])
    assert res.exit_code == 1 and "unknown parameterization" in res.output
    res = runner.invoke(cli, ["train-solver", "--shape", "3x3", "--batch-size", "8",
                              "--architecture", "4/4/4", "--concept", "ce", "--out", str(out)])
    assert res.exit_code == 1 and "another configuration" in res.output


def test_inputs_a_model_was_not_trained_for_are_refused():
    """The default ME model has no target epsilon input: giving one is an error naming
    the model, not an answer that silently ignores it. (A target joint is not refused:
    it is the prior of the joint, and of the exact solve under ``refine``.)"""
    game = sp.load_game("chicken")
    with pytest.raises(sp.SpielplatzError, match="takes no target epsilon"):
        sp.solve(game, solver="nes", concept="ce", target_epsilon=0.5)
    from click.testing import CliRunner

    from spielplatz.cli.main import cli
    result = CliRunner().invoke(cli, ["solve", "chicken", "--solver", "nes",
                                      "-o", "target_epsilon=0.5"])
    assert result.exit_code != 0 and "takes no target epsilon" in result.output

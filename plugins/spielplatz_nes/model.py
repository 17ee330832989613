"""Trained models: finding, loading and running them (batched, any JAX backend).

A model answers for games of exactly its shape (player and action counts) and
concept. Inputs are first mapped to the L2 invariant subspace (Appendix B,
eq. 16a, :mod:`spielplatz.equilibria.scaling`), so any payoff offset and positive scale
works; epsilons and duals are mapped back to the game's own units.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from spielplatz.equilibria import scaling
from spielplatz.errors import SpielplatzError

from .checkpoint import CheckpointError, read_model_file
from .config import ModelConfig

__all__ = ["TrainedModel", "shipped_models", "find_model", "load_model", "Prediction",
           "default_batch_size"]


def _models_dir() -> Path:
    return Path(str(resources.files("spielplatz_nes") / "models"))


@functools.lru_cache(maxsize=1)
def shipped_models() -> dict[str, Path]:
    """Shipped model name -> folder (``models/<name>/model.msgpack``)."""
    root = _models_dir()
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / "model.msgpack").is_file()}


@functools.lru_cache(maxsize=1)
def _shipped_index() -> dict[str, dict]:
    out = {}
    for name, folder in shipped_models().items():
        try:
            out[name] = json.loads((folder / "model.json").read_text())
        except (OSError, ValueError):
            continue
    return out


def find_model(concept: str, shape: tuple, parameterization: str = "ME") -> str:
    """Name of the shipped model for ``concept``/``shape``/``parameterization``.

    Raises
    ------
    SpielplatzError
        Listing the shipped models, when none fits.
    """
    from .parameterizations import get as get_parameterization

    try:
        parameterization = get_parameterization(parameterization).name
    except ValueError as exc:
        raise SpielplatzError(f"nes: {exc}") from None
    shape = tuple(int(a) for a in shape)
    for name, meta in _shipped_index().items():
        m = meta.get("model", {})
        if meta.get("default", True) is False:         # an alternative, by name only
            continue
        if (m.get("concept") == concept and tuple(m.get("shape", ())) == shape
                and m.get("parameterization", "").lower() == parameterization.lower()):
            return name
    have = ", ".join(sorted(shipped_models())) or "none"
    raise SpielplatzError(
        f"nes: no shipped {parameterization} model for {concept.upper()} in "
        f"{'x'.join(map(str, shape))} games (shipped: {have}); train one with "
        f"`spielplatz train-solver --concept {concept} --shape {'x'.join(map(str, shape))} "
        + ("" if parameterization == "ME" else f"--parameterization {parameterization} ")
        + "--out DIR` and pass -o model=DIR")


@dataclass
class Prediction:
    """The network's answer for a batch, in the games' own units.

    Attributes
    ----------
    joint : ndarray ``[B, A...]``
    duals : list of ndarray
        Per player ``[B, A_p(, A_p)]``, multipliers of the game's own-unit constraints.
    scaled_duals : list of ndarray
        The same for the scaled games (what the network outputs).
    scaling : spielplatz.equilibria.scaling.Scaling
    log_prior : ndarray ``[B, A...]``
        ``ln sigma_hat`` of the network's problem (uniform unless a target joint was given).
    welfare : ndarray ``[B, A...]``
        ``W(a)`` of the network's problem, the term its loss weighs by the
        parameterization's ``mu`` (zeros for models without a welfare term).
    """

    joint: np.ndarray
    duals: list
    scaled_duals: list
    scaling: Any
    log_prior: np.ndarray
    welfare: np.ndarray


class TrainedModel:
    """A trained network with its configuration; ``predict`` runs it on a batch.

    Parameters
    ----------
    config : ModelConfig
    variables : dict
        ``{"params", "batch_stats"}``.
    name : str
    meta : dict
        What the model file says about its training.
    """

    def __init__(self, config: ModelConfig, variables: dict, name: str = "model",
                 meta: dict | None = None, path: str | None = None):
        self.config = config
        self.variables = variables
        self.name = name
        self.meta = dict(meta or {})
        self.path = path

    @property
    def _numpy_variables(self) -> dict:
        """:attr:`variables` with numpy leaves, for the numpy forward pass (a model
        trained in this process holds jax arrays; a loaded one numpy arrays already),
        made again whenever :attr:`variables` or its two parts are replaced."""
        def leaves(tree: Any) -> Any:
            if isinstance(tree, dict):
                return {k: leaves(v) for k, v in tree.items()}
            return np.asarray(tree) if hasattr(tree, "shape") else tree

        v = self.variables
        held = self.__dict__.get("_numpy_copy")
        if held is None or held[0] is not v or held[1] is not v["params"] \
                or held[2] is not v["batch_stats"]:
            held = self.__dict__["_numpy_copy"] = (v, v["params"], v["batch_stats"],
                                                   leaves(v))
        return held[3]

    @functools.cached_property
    def _forward(self):
        import jax

        from . import core
        from .checkpoint import _check_shapes

        cfg = self.config
        if self.path is not None:   # loaded without jax: check the structure once now
            target = core.init_variables(cfg, jax.random.PRNGKey(0))
            _check_shapes(Path(self.path), target, self.variables)

        def forward(variables, problem):
            duals = core.apply_network(cfg, variables, problem, train=False)
            return duals, core.batch_joint(cfg, problem, duals)
        return jax.jit(forward)

    def check_shape(self, shape: tuple) -> None:
        if tuple(shape) != self.config.shape:
            raise SpielplatzError(
                f"nes: model {self.name!r} solves {self.config.shape_str} games, got a "
                f"{'x'.join(map(str, shape))} game")

    def predict(self, payoffs: Any, *, target_joint: Any = None, welfare: Any = None,
                target_epsilon: Any = None, batch_size: int | None = None,
                backend: str | None = None) -> Prediction:
        """Run the network on payoffs ``[B, N, A...]`` (any units).

        Parameters
        ----------
        payoffs : array ``[B, N, A_1..A_N]``
        target_joint : array ``[A...]`` or ``[B, A...]``, optional
            Full-support target ``sigma_hat`` (MRE/MT models); uniform otherwise.
        welfare : array ``[A...]`` or ``[B, A...]``, optional
            ``W(a)`` (MWME models; MU uses the sum of the payoffs); mapped by eq. (16c).
        target_epsilon : float or array ``[N]`` or ``[B, N]``, optional
            ``eps_hat`` in the games' own units (epsilon-hat models); eq. (16b).
        batch_size : int, optional
            Games per network call: :func:`default_batch_size` by default.
        backend : {"numpy", "jax"}, optional
            ``"numpy"``: the forward pass in plain numpy (:mod:`spielplatz_nes.numpy_net`;
            no jax import or compilation, the fast way to answer a few games);
            ``"jax"``: jitted on the JAX backend in chunks of ``batch_size``. By default
            numpy for at most :data:`NUMPY_MAX_GAMES` games, jax otherwise.
        """
        b = int(np.shape(payoffs)[0]) if np.ndim(payoffs) else 0
        if backend is None:
            backend = "numpy" if b <= NUMPY_MAX_GAMES else "jax"
        if backend not in ("numpy", "jax"):
            raise SpielplatzError(f"nes: backend must be 'numpy' or 'jax', got {backend!r}")
        if not batch_size:
            batch_size = b if backend == "numpy" else default_batch_size(self.config)
        batch_size = int(batch_size)
        if batch_size < 1:
            raise SpielplatzError(f"nes: batch_size must be >= 1, got {batch_size}")

        cfg = self.config
        param = cfg.param
        payoffs = np.asarray(payoffs, dtype=np.float64)
        n = len(cfg.shape)
        if payoffs.ndim != n + 2 or tuple(payoffs.shape[1:]) != (n,) + cfg.shape:
            raise SpielplatzError(f"nes: model {self.name!r} needs payoffs of shape "
                                  f"[B, {n}, {', '.join(map(str, cfg.shape))}], got "
                                  f"{list(payoffs.shape)}")
        if not np.all(np.isfinite(payoffs)):
            raise SpielplatzError("nes: payoffs contain NaN or infinity")
        b = payoffs.shape[0]
        scaled, scl = scaling.unit_variance(payoffs, m=2, num_players=n)
        size = int(np.prod(cfg.shape))
        if target_joint is not None:
            tj = np.broadcast_to(np.asarray(target_joint, dtype=np.float64), (b,) + cfg.shape)
            if np.any(~np.isfinite(tj)) or np.any(tj <= 0):
                raise SpielplatzError("nes: the target joint must have full support (all > 0)")
            log_prior = np.log(tj / tj.reshape(b, -1).sum(1).reshape((b,) + (1,) * n))
        else:
            log_prior = np.full((b,) + cfg.shape, -np.log(size))
        if target_epsilon is not None and not param.uses_target_epsilon:
            raise SpielplatzError(f"nes: model {self.name!r} ({param.name}) takes no target "
                                  f"epsilon (its target epsilon is {param.target_epsilon!r})")
        if welfare is not None and param.welfare in ("none", "sum"):
            raise SpielplatzError(
                f"nes: model {self.name!r} ({param.name}) takes no welfare input"
                + (" (its welfare is the sum of the scaled payoffs)" if param.welfare == "sum"
                   else ""))
        if param.welfare == "sum":
            w = scaled.sum(axis=1)
        elif welfare is not None:
            w = scaling.scale_welfare(np.broadcast_to(np.asarray(welfare, float),
                                                      (b,) + cfg.shape), 2, n)
        elif param.welfare == "random":
            w = scaling.scale_welfare(payoffs.sum(axis=1), 2, n)   # utilitarian by default
        else:
            w = np.zeros((b,) + cfg.shape)
        eps = np.zeros((b, n)) if target_epsilon is None else np.broadcast_to(
            np.asarray(target_epsilon, float), (b, n))
        if param.target_epsilon == "min":
            eps = np.full((b, n), -scaling.z_norm(size, 2))
        elif param.target_epsilon == "uniform":
            eps = scl.scale_epsilon(eps)
        problem_all = {"payoffs": scaled, "log_prior": log_prior, "welfare": w,
                       "target_epsilon": eps}
        self._check_memory(min(batch_size, b))
        if backend == "numpy":
            joint, scaled_duals = self._numpy_forward(problem_all)
            return Prediction(joint=joint, duals=scl.unscale_duals(scaled_duals),
                              scaled_duals=scaled_duals, scaling=scl, log_prior=log_prior,
                              welfare=np.asarray(w, dtype=float))
        joints, duals = [], []
        for start in range(0, b, batch_size):
            stop = min(start + batch_size, b)
            # Pad each chunk to a power of two: one compilation per bucket, not per size.
            rows = stop - start
            padded = min(1 << max(rows - 1, 0).bit_length(), max(batch_size, rows))
            chunk = {}
            for k, v in problem_all.items():
                part = v[start:stop]
                if padded > rows:
                    part = np.concatenate([part, np.repeat(part[-1:], padded - rows, 0)])
                chunk[k] = np.asarray(part, np.float32)   # jit transfers it
            d, j = self._forward(self.variables, chunk)
            joints.append(np.asarray(j, dtype=np.float64)[:rows])
            duals.append([np.asarray(x, dtype=np.float64)[:rows] for x in d])
        joint = np.concatenate(joints)
        joint = joint / joint.reshape(b, -1).sum(1).reshape((b,) + (1,) * n)
        scaled_duals = [np.concatenate([d[p] for d in duals]) for p in range(n)]
        return Prediction(joint=joint, duals=scl.unscale_duals(scaled_duals),
                          scaled_duals=scaled_duals, scaling=scl, log_prior=log_prior,
                          welfare=np.asarray(w, dtype=float))


    def _check_memory(self, games: int) -> None:
        from spielplatz.system.resources import check_memory, nes_bytes

        cfg = self.config
        check_memory(nes_bytes(cfg.shape, games, cfg.payoff_channels, cfg.dual_channels,
                               cfg.dual_layers, cfg.concept,
                               input_channels=1 + cfg.param.uses_target_joint
                               + cfg.param.uses_welfare + cfg.param.uses_target_epsilon),
                     f"nes: model {self.name!r} on {games:,} {cfg.shape_str} "
                     f"game{'s' if games != 1 else ''} at once", hint="use a smaller batch_size")

    def _numpy_forward(self, problem: dict) -> tuple:
        """Joint ``[B, A...]`` and scaled duals of a batch, in numpy (float32 network)."""
        from spielplatz.equilibria import mwmre

        from . import numpy_net
        from . import parameterizations as pz

        cfg = self.config
        chunk = {k: np.asarray(v, np.float32) for k, v in problem.items()}
        x = pz.features(chunk, cfg.param, xp=np)
        try:
            duals = numpy_net.forward(cfg, self._numpy_variables, x)
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            raise CheckpointError(f"nes: model {self.name!r}: its parameters do not fit its "
                                  f"configuration ({type(exc).__name__}: {exc})") from None
        b, n = problem["payoffs"].shape[:2]
        mu = cfg.param.mu
        joints = []
        for i in range(b):
            d = [np.asarray(x[i], np.float32) for x in duals]
            j = mwmre.joint(chunk["payoffs"][i], d, cfg.concept, log_prior=chunk["log_prior"][i],
                            welfare=chunk["welfare"][i], mu=np.float32(mu) if mu else mu)
            joints.append(np.asarray(j, dtype=np.float64))
        joint = np.stack(joints)
        joint = joint / joint.reshape(b, -1).sum(1).reshape((b,) + (1,) * n)
        return joint, [np.asarray(x, dtype=np.float64) for x in duals]


#: ``predict`` runs the network in numpy (no jax) for at most this many games.
NUMPY_MAX_GAMES = 8


def default_batch_size(config: Any = None) -> int:
    """Games per network call: on CPU about 2048 / (widest payoff layer) games, so that a
    chunk's activations stay in cache (64 for 32 channels: measured 2x faster per game
    than 1024 for 8x8 games; 128 for 16 channels: 25 against 34 ms per 1000 games at
    64), 1024 on GPU/TPU."""
    import jax

    if jax.default_backend() != "cpu":
        return 1024
    width = max(1, int(max(getattr(config, "payoff_channels", None) or (32,))))
    games = 1 << (max(1, 2048 // width).bit_length() - 1)      # a power of two
    return int(min(1024, max(16, games)))


#: Models of games up to this many joint actions get a numpy dry run when loaded.
DRY_RUN_CELLS = 4096


@functools.lru_cache(maxsize=16)
def _load_cached(path: str) -> TrainedModel:
    """Read a model without jax (:mod:`spielplatz_nes.numpy_net`); the structure is checked
    against the network when the jax path first runs, the values here."""
    from . import numpy_net

    cfg, blob, extra = read_model_file(path)
    try:
        variables = numpy_net.model_variables(blob)
    except Exception as exc:  # noqa: BLE001 - any decoding failure means corruption
        raise CheckpointError(f"{path}: state does not fit this model ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    bad = numpy_net.non_finite_leaves(variables)
    if bad:
        raise CheckpointError(f"{path}: the model has non-finite weights (NaN or infinity in "
                              f"{len(bad)} array{'s' if len(bad) > 1 else ''}, first "
                              f"{bad[0]}); train it again or use an earlier checkpoint")
    model = TrainedModel(cfg, variables, name=Path(path).name, meta=extra, path=path)
    # a dry run on one zero game: a state that does not fit the configuration fails here
    n = len(cfg.shape)
    if np.prod(cfg.shape) <= DRY_RUN_CELLS:
        model._numpy_forward({"payoffs": np.zeros((1, n) + cfg.shape),
                              "log_prior": np.full((1,) + cfg.shape,
                                                   -np.log(np.prod(cfg.shape))),
                              "welfare": np.zeros((1,) + cfg.shape),
                              "target_epsilon": np.zeros((1, n))})
    return model


def load_model(spec: str | Path | None = None, *, concept: str | None = None,
               shape: tuple | None = None, parameterization: str = "ME") -> TrainedModel:
    """Load a model: a shipped name, a folder (model or training checkpoint) or a file.

    With ``spec=None``, the shipped model for ``concept``, ``shape`` and
    ``parameterization``.

    Raises
    ------
    SpielplatzError
        No such model, or a corrupt/mismatched file (:class:`CheckpointError`).
    """
    if spec is None:
        spec = find_model(concept, shape, parameterization)
    shipped = shipped_models()
    if str(spec) in shipped:        # (its folder as listed: no file-system calls per solve)
        model = _load_cached(str(shipped[str(spec)]))
    else:
        path = Path(spec)
        if not path.exists():
            raise SpielplatzError(f"nes: no model {str(spec)!r}: neither a shipped model "
                                  f"({', '.join(shipped) or 'none'}) nor a file or folder")
        model = _load_cached(str(path.resolve()))
    if concept is not None and model.config.concept != concept:
        raise CheckpointError(f"nes: model {model.name!r} solves {model.config.concept.upper()}, "
                              f"not {concept.upper()}")
    return model

"""Solution parameterizations of Table 3 (NES appendix, D.3) and the network's inputs.

A parameterization fixes which MWMRE problem (Theorems 1-2) the network learns
to solve, on games scaled to the L2 invariant subspace (Appendix B):

=========  ==================  =================  ===========  ======  ======
name       target joint        target epsilon     welfare      rho     mu
=========  ==================  =================  ===========  ======  ======
ME         uniform             0                  none         rho     0
MT         given (Dir(1))      0                  none         rho     0
MU         uniform             0                  sum_p G_p    rho     mu
MWME       uniform             0                  ~ L2         rho     mu
MRE        ~ Dir(1)            0                  none         rho     0
MS         uniform             -Z                 none         rho     0
eps-ME     uniform             ~ U(-Z, Z)         none         rho     0
eps-MWME   uniform             ~ U(-Z, Z)         ~ L2         rho     mu
eps-MRE    ~ Dir(1)            ~ U(-Z, Z)         none         rho     0
=========  ==================  =================  ===========  ======  ======

``eps+ = Z_2`` for all (Table 3). ``rho >> 1`` and ``mu >> 1`` are not given
numerically; we use ``rho = 1000`` (on L2-scaled 8x8 games the target-epsilon
answer is then within 0.002 half-L1 of the exact epsilon = 0 MaxEnt CCE, see
docs/nes.md) and ``mu = 10``. MT and MRE are the same network (a target joint
is an input; MT is the name for solving with a user's target).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from spielplatz.equilibria import scaling

__all__ = ["Parameterization", "PARAMETERIZATIONS", "get", "sample_problem", "features",
           "input_channels"]


@dataclass(frozen=True)
class Parameterization:
    """One row of Table 3.

    Attributes
    ----------
    name : str
    target_joint : {"uniform", "dirichlet"}
    target_epsilon : {"zero", "min", "uniform"}
        ``0``, ``-Z`` or ``U(-Z, Z)`` per player.
    welfare : {"none", "sum", "random"}
    rho, mu : float
    description : str
    """

    name: str
    target_joint: str = "uniform"
    target_epsilon: str = "zero"
    welfare: str = "none"
    rho: float = 1000.0
    mu: float = 0.0
    description: str = ""

    @property
    def uses_target_joint(self) -> bool:
        return self.target_joint != "uniform"

    @property
    def uses_welfare(self) -> bool:
        return self.welfare != "none"

    @property
    def uses_target_epsilon(self) -> bool:
        return self.target_epsilon == "uniform"

    def to_dict(self) -> dict:
        return asdict(self)


_MU = 10.0
PARAMETERIZATIONS = {p.name: p for p in [
    Parameterization("ME", description="maximum entropy (C)CE"),
    Parameterization("MT", target_joint="dirichlet",
                     description="minimum relative entropy to a given target joint"),
    Parameterization("MU", welfare="sum", mu=_MU,
                     description="maximum utilitarian welfare, maximum entropy tie-break"),
    Parameterization("MWME", welfare="random", mu=_MU,
                     description="maximum welfare (any welfare input), maximum entropy"),
    Parameterization("MRE", target_joint="dirichlet",
                     description="minimum relative entropy to a Dir(1) target joint"),
    Parameterization("MS", target_epsilon="min",
                     description="maximum strength: target epsilon -Z (strict equilibria)"),
    Parameterization("eps-ME", target_epsilon="uniform",
                     description="maximum entropy with a target epsilon input"),
    Parameterization("eps-MWME", target_epsilon="uniform", welfare="random", mu=_MU,
                     description="maximum welfare, maximum entropy, target epsilon input"),
    Parameterization("eps-MRE", target_joint="dirichlet", target_epsilon="uniform",
                     description="minimum relative entropy, target epsilon input"),
]}


def get(name: str) -> Parameterization:
    """The parameterization called ``name`` (case-insensitive; ``ε̂-ME`` = ``eps-ME``)."""
    key = {k.lower(): k for k in PARAMETERIZATIONS}
    norm = name.strip().lower().replace("ε̂", "eps").replace("ε", "eps").replace("_", "-")
    if norm.startswith("eps") and not norm.startswith("eps-"):
        norm = "eps-" + norm[3:].lstrip("-")
    if norm not in key:
        raise ValueError(f"unknown parameterization {name!r}; use one of "
                         f"{', '.join(PARAMETERIZATIONS)}")
    return PARAMETERIZATIONS[key[norm]]


def input_channels(param: Parameterization) -> int:
    """Feature channels of the network input: payoffs plus the optional inputs."""
    return 1 + param.uses_target_joint + param.uses_welfare + param.uses_target_epsilon


def sample_problem(key: jax.Array, param: Parameterization, shape: tuple, batch_size: int) -> dict:
    """A batch of training problems: L2-invariant games and the parameterization's inputs.

    Returns a dict of arrays (batch first): ``payoffs`` ``[B, N, A...]`` on the
    L2 invariant subspace, ``log_prior`` ``[B, A...]``, ``welfare`` ``[B, A...]``
    (scaled, eq. 16c), ``target_epsilon`` ``[B, N]`` (scaled units), all float32.
    """
    import jax
    import jax.numpy as jnp

    n = len(shape)
    size = 1
    for a in shape:
        size *= a
    z = scaling.z_norm(size, 2)
    k_g, k_j, k_w, k_e = jax.random.split(key, 4)
    raw = jax.random.normal(k_g, (batch_size, n) + tuple(shape), jnp.float32)
    payoffs = scaling.project_invariant(raw, m=2, num_players=n)
    if param.target_joint == "dirichlet":
        prior = jax.random.dirichlet(k_j, jnp.ones(size, jnp.float32), (batch_size,))
        log_prior = jnp.log(jnp.maximum(prior, 1e-30)).reshape((batch_size,) + tuple(shape))
    else:
        log_prior = jnp.full((batch_size,) + tuple(shape), -jnp.log(size), jnp.float32)
    if param.welfare == "sum":
        welfare = payoffs.sum(axis=1)
    elif param.welfare == "random":
        welfare = scaling.scale_welfare(
            jax.random.normal(k_w, (batch_size,) + tuple(shape), jnp.float32), 2, n)
    else:
        welfare = jnp.zeros((batch_size,) + tuple(shape), jnp.float32)
    if param.target_epsilon == "uniform":
        eps = jax.random.uniform(k_e, (batch_size, n), jnp.float32, -z, z)
    elif param.target_epsilon == "min":
        eps = jnp.full((batch_size, n), -z, jnp.float32)
    else:
        eps = jnp.zeros((batch_size, n), jnp.float32)
    return {"payoffs": payoffs, "log_prior": log_prior, "welfare": welfare,
            "target_epsilon": eps}


def features(problem: dict, param: Parameterization, xp: Any = None) -> jax.Array:
    """The network input ``[B, N, A..., C]``: payoffs, then the parameterization's inputs.

    The target joint enters as eq. (16d), ``Z_sigma (sigma_hat - 1/|A|)``; the
    welfare as eq. (16c) (already scaled); the target epsilon (scaled, 16b)
    divided by ``Z`` (so it lies in [-1, 1]). ``xp`` is the array module
    (``jax.numpy`` by default; ``numpy`` for the jax-free single-game path).
    """
    if xp is None:
        import jax.numpy as xp
    jnp = xp
    payoffs = problem["payoffs"]
    b, n = payoffs.shape[:2]
    joint_shape = payoffs.shape[2:]
    size = 1
    for a in joint_shape:
        size *= a
    chans = [payoffs[..., None]]
    full = payoffs.shape

    def per_joint(x: Any) -> jax.Array:
        return jnp.broadcast_to(x[:, None], full)[..., None]

    if param.uses_target_joint:
        prior = jnp.exp(problem["log_prior"])
        prior = prior / prior.reshape(b, -1).sum(axis=1).reshape((b,) + (1,) * n)
        chans.append(per_joint(scaling.scale_target_joint(prior, n)))
    if param.uses_welfare:
        chans.append(per_joint(problem["welfare"]))
    if param.uses_target_epsilon:
        z = scaling.z_norm(size, 2)
        eps = problem["target_epsilon"].reshape((b, n) + (1,) * n)
        chans.append(jnp.broadcast_to(eps / z, full)[..., None])
    return jnp.concatenate(chans, axis=-1).astype(jnp.float32)


def loss_terms(param: Parameterization, shape: tuple) -> dict:
    """``eps_plus``, ``rho`` and ``mu`` of the dual loss for games of ``shape``."""
    size = 1
    for a in shape:
        size *= a
    return {"eps_plus": scaling.z_norm(size, 2), "rho": param.rho, "mu": param.mu}

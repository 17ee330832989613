"""A2C with V-trace (IMPALA's off-policy correction) for any ``jax_environment`` game.

Each player has its own :class:`~spielplatz.learning.networks.ActorCriticNet` (nothing
shared). One update: every seed's ``num_envs`` environments play ``unroll_length`` steps
(a ``lax.scan``; an environment that ends resets at once, the LSTM carry with it); the
network is re-run over the unroll and each player minimises

    ``-mean(log pi(a_t) A_t) + baseline_cost * 0.5 mean((v_s - V(x_t))^2)
    - entropy_cost * mean(H(pi(x_t)))``

with the V-trace targets ``v_s`` and advantages ``A_t = rho_t (r_t + gamma v_{t+1} -
V(x_t))`` of ``rlax.vtrace_td_error_and_advantage`` (discount 0 after an episode end);
then one RMSProp step (optax) per player. Updates are synchronous (importance ratios 1,
targets n-step returns); the correction matters for behaviour logits older than the
parameters. Seeds run under ``jax.vmap``, updates in ``lax.scan`` (``driver.run_seeds``).

Rewards can be reshaped before learning (:func:`reward_shaping`): player ``i`` learns
``sum_j A_ij r_j`` (a mixing matrix ``A``; ``selfish`` is the identity, ``total`` all
ones, ``punish`` ``-r_j`` of the others), or a registered welfare function of values
applied to each step's rewards. The inequity-averse welfare of C.1 is defined on
trajectories; :class:`InequityAverseRewards` wraps an environment so that both players
learn its per-step form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from spielplatz.errors import SpielplatzError
from spielplatz.learning.environments import InequityAverseRewards, IteratedEnvironment
from spielplatz.learning.networks import ActorCriticNet, initial_carry

__all__ = ["ActorCriticConfig", "ActorCritic", "TrainState", "IteratedEnvironment",
           "InequityAverseRewards",
           "reward_shaping", "sequence_loss", "train", "REWARD_MODES"]

REWARD_MODES = ("selfish", "total", "punish")


@dataclass(frozen=True)
class ActorCriticConfig:
    """Hyper-parameters. The first eight are D3C's Table 2 (Appendix G.1, "A2C
    hyperparameter settings for Coin, Cleanup, and HarvestPatch": no tuning)."""

    entropy_cost: float = 0.003           # Table 2: entropy regularization
    baseline_cost: float = 0.5            # Table 2: baseline loss scaling
    unroll_length: int = 100              # Table 2: unroll length
    discount: float = 0.98                # Table 2: discount gamma
    learning_rate: float = 4e-4           # Table 2: RMSProp learning rate
    rms_epsilon: float = 1e-5             # Table 2: RMSProp epsilon
    rms_momentum: float = 0.0             # Table 2: RMSProp momentum
    rms_decay: float = 0.99               # Table 2: RMSProp decay
    num_envs: int = 16                    # environments per seed (ours)
    hidden: tuple = (64, 64)              # MLP widths (ours)
    channels: tuple = (16,)               # conv torso, [C, H, W] observations only (ours)
    lstm: int = 0                         # LSTM core features, 0: none (ours)
    vtrace_lambda: float = 1.0            # V-trace lambda (IMPALA: 1)
    clip_rho: float = 1.0                 # V-trace rho-bar (IMPALA: 1)
    clip_pg_rho: float = 1.0              # policy-gradient rho-bar (IMPALA: 1)
    max_grad_norm: float = 0.0            # per-player gradient clipping, 0: none (ours)

    def optimizer(self) -> Any:
        import optax

        rms = optax.rmsprop(self.learning_rate, decay=self.rms_decay, eps=self.rms_epsilon,
                            momentum=self.rms_momentum or None)
        if self.max_grad_norm > 0:
            return optax.chain(optax.clip_by_global_norm(self.max_grad_norm), rms)
        return rms


def reward_shaping(spec: Any, num_players: int, *, mixing: Any = None,
                   disagreement: Any = None) -> tuple:
    """``(A [N, N], welfare)``: player ``i`` learns ``sum_j A_ij r_j``, or, where
    ``welfare[i]`` is a function, ``welfare[i](r)`` of the step's rewards ``r [N]``.

    ``spec`` is ``selfish``, ``total``, ``punish`` (``-sum_{j != i} r_j``: minimise the
    others' rewards) or a registered welfare function of values (``utilitarian``,
    ``egalitarian``, ``nash``, aliases too; ``disagreement`` ``d`` subtracted first), or
    one of these per player joined by ``;``. ``mixing`` (an ``[N, N]`` matrix) replaces
    ``spec``; D3C's Algorithm 3 mixes ``sum_j A_ji r_j``, so pass its ``A`` transposed.
    """
    n = int(num_players)
    if mixing is not None:
        a = np.asarray(mixing, dtype=float)
        if a.size == n * n:
            a = a.reshape(n, n)
        if a.shape != (n, n) or not np.all(np.isfinite(a)):
            raise SpielplatzError(f"mixing must be a finite {n}x{n} matrix (one row per "
                                  f"player), got shape {list(np.shape(mixing))}")
        return a, (None,) * n
    modes = [m.strip() for m in str(spec).replace(",", ";").split(";")]
    if len(modes) == 1:
        modes = modes * n
    if len(modes) != n:
        raise SpielplatzError(f"reward: give one mode or one per player ({n}), got "
                              f"{len(modes)}: {spec!r}")
    d = None if disagreement is None else jnp.asarray(
        np.broadcast_to(np.asarray(disagreement, dtype=float), (n,)), jnp.float32)
    a, welfare = np.zeros((n, n)), []
    for i, mode in enumerate(modes):
        welfare.append(None)
        if mode == "selfish":
            a[i, i] = 1.0
        elif mode == "total":
            a[i] = 1.0
        elif mode == "punish":
            a[i] = -1.0
            a[i, i] = 0.0
        else:
            welfare[i] = _welfare(mode, d)
    return a, tuple(welfare)


def _welfare(name: str, d: Any) -> Callable:
    from spielplatz.equilibria.welfare_functions import registered_welfare_function

    try:
        w = registered_welfare_function(name)
    except SpielplatzError as exc:
        raise SpielplatzError(f"reward {name!r} is none of {', '.join(REWARD_MODES)} nor a "
                              f"welfare function ({exc})") from None
    if w.defined_on != "values" or w.needs:
        raise SpielplatzError(f"welfare function {w.name!r} cannot reshape one step's "
                              f"rewards (defined on {w.defined_on}"
                              + (f", needs {', '.join(w.needs)})" if w.needs else ")"))
    return lambda r: w(r, d)


def shape_rewards(rewards: Any, mixing: Any, welfare: tuple) -> Any:
    """Reshaped rewards ``[..., N]`` (see :func:`reward_shaping`)."""
    out = rewards @ mixing.T
    for i, w in enumerate(welfare):
        if w is not None:
            out = out.at[..., i].set(w(rewards))
    return out


@flax.struct.dataclass
class TrainState:
    """One seed: per-player parameters and optimiser states (leading axis players), the
    environments ``[E, ...]``, their observations ``[E, N, ...]``, LSTM carries, running
    episode returns ``[E, N]``, the mixing matrix ``[N, N]`` and the key."""

    params: Any
    opt_state: Any
    env_state: Any
    obs: Any
    carry: Any
    episode_return: Any
    mixing: Any
    key: Any


def sequence_loss(config: ActorCriticConfig, logits: Any, values: Any, actions: Any,
                  behaviour_logits: Any, rewards: Any, done: Any) -> tuple:
    """One player's loss on one unroll: ``logits [T, A]``, ``values [T + 1]`` (the last
    bootstraps), ``actions``, ``rewards``, ``done [T]``; returns ``(loss, parts)`` (parts:
    the three terms, the total and the mean importance ratio ``rho``)."""
    import rlax

    log_pi = jax.nn.log_softmax(logits)
    log_pi_a = jnp.take_along_axis(log_pi, actions[:, None], axis=1)[:, 0]
    log_mu_a = jnp.take_along_axis(jax.nn.log_softmax(behaviour_logits), actions[:, None],
                                   axis=1)[:, 0]
    rho = jax.lax.stop_gradient(jnp.exp(log_pi_a - log_mu_a))
    discount = config.discount * (1.0 - done.astype(jnp.float32))
    vt = rlax.vtrace_td_error_and_advantage(
        values[:-1], values[1:], rewards.astype(jnp.float32), discount, rho,
        lambda_=config.vtrace_lambda, clip_rho_threshold=config.clip_rho,
        clip_pg_rho_threshold=config.clip_pg_rho)
    policy_loss = -jnp.mean(log_pi_a * jax.lax.stop_gradient(vt.pg_advantage))
    value_loss = 0.5 * jnp.mean(vt.errors ** 2)
    entropy = -jnp.mean(jnp.sum(jnp.exp(log_pi) * log_pi, axis=-1))
    loss = policy_loss + config.baseline_cost * value_loss - config.entropy_cost * entropy
    return loss, {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss,
                  "entropy": entropy, "rho": jnp.mean(rho)}


@dataclass(frozen=True)
class ActorCritic:
    """The learner's pure functions for one environment (see the module docstring)."""

    env: Any
    config: ActorCriticConfig = ActorCriticConfig()
    welfare: tuple = ()

    @property
    def net(self) -> ActorCriticNet:
        conv = len(tuple(self.env.observation_shape)) == 3
        return ActorCriticNet(int(self.env.num_actions), tuple(self.config.hidden),
                              tuple(self.config.channels) if conv else (), 3,
                              int(self.config.lstm))

    def _carry(self, *lead: int) -> Any:
        return jax.tree_util.tree_map(lambda z: jnp.zeros((*lead, *z.shape)),
                                      initial_carry(self.config.lstm))

    def init(self, key: Any, mixing: Any, params: Any = None) -> TrainState:
        """A fresh training state; ``params`` (``[N, ...]``): start from these networks
        (with a fresh optimiser) instead of newly initialised ones."""
        n, e = int(self.env.num_players), int(self.config.num_envs)
        k_net, k_env, key = jax.random.split(key, 3)
        obs0 = jnp.zeros(tuple(self.env.observation_shape), jnp.float32)
        if params is None:
            params = jax.vmap(lambda k: self.net.init(k, obs0, initial_carry(
                self.config.lstm))["params"])(jax.random.split(k_net, n))
        else:
            params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float32), params)
        opt_state = jax.vmap(self.config.optimizer().init)(params)
        env_state, obs = jax.vmap(self.env.reset)(jax.random.split(k_env, e))
        return TrainState(params, opt_state, env_state, obs, self._carry(e, n),
                          jnp.zeros((e, n)), jnp.asarray(mixing, jnp.float32), key)

    def forward(self, params: Any, obs: Any, carry: Any) -> tuple:
        """Every player's network on every environment: ``obs [E, N, ...]``."""
        per_player = jax.vmap(lambda p, o, c: self.net.apply({"params": p}, o, c))
        return jax.vmap(per_player, in_axes=(None, 0, 0))(params, obs, carry)

    def rollout(self, state: TrainState) -> tuple:
        """``unroll_length`` steps of every environment: ``(state, trajectory, sums)``."""
        env, e = self.env, int(self.config.num_envs)
        m_shape = jax.eval_shape(env.metrics, jax.tree_util.tree_map(lambda x: x[0],
                                                                     state.env_state))

        def where(mask: Any, a: Any, b: Any) -> Any:
            return jax.tree_util.tree_map(
                lambda x, y: jnp.where(mask.reshape(mask.shape + (1,) * (x.ndim - 1)), x, y),
                a, b)

        def body(carry: tuple, key: Any) -> tuple:
            env_state, obs, core, ret, sums = carry
            k_act, k_env, k_reset = jax.random.split(key, 3)
            logits, _, core2 = self.forward(state.params, obs, core)
            actions = jax.random.categorical(k_act, logits).astype(jnp.int32)
            env_state2, obs2, rewards, done = jax.vmap(env.step)(
                env_state, actions, jax.random.split(k_env, e))
            ret = ret + rewards
            stats = {"return_sum": jnp.where(done[:, None], ret, 0.0).sum(0),
                     "episodes": done.sum().astype(jnp.float32),
                     "reward": rewards.mean(0),
                     **{k: jnp.where(done.reshape((e,) + (1,) * (v.ndim - 1)), v, 0).sum(0)
                        .astype(jnp.float32)
                        for k, v in jax.vmap(env.metrics)(env_state2).items()}}
            sums = jax.tree_util.tree_map(jnp.add, sums, stats)
            fresh_state, fresh_obs = jax.vmap(env.reset)(jax.random.split(k_reset, e))
            env_state2 = where(done, fresh_state, env_state2)
            obs2 = where(done, fresh_obs, obs2)
            core2 = where(done, self._carry(e, env.num_players), core2)
            out = {"obs": obs, "actions": actions, "logits": logits,
                   "rewards": shape_rewards(rewards, state.mixing, self.welfare), "done": done}
            return (env_state2, obs2, core2, jnp.where(done[:, None], 0.0, ret), sums), out

        zero = {"return_sum": jnp.zeros(env.num_players), "episodes": jnp.zeros(()),
                "reward": jnp.zeros(env.num_players),
                **{k: jnp.zeros(v.shape, jnp.float32) for k, v in m_shape.items()}}
        key, k_roll = jax.random.split(state.key)
        init = (state.env_state, state.obs, state.carry, state.episode_return, zero)
        (env_state, obs, core, ret, sums), traj = jax.lax.scan(
            body, init, jax.random.split(k_roll, self.config.unroll_length))
        traj["last_obs"], traj["first_carry"] = obs, state.carry
        sums["reward"] = sums["reward"] / self.config.unroll_length
        return state.replace(env_state=env_state, obs=obs, carry=core, episode_return=ret,
                             key=key), traj, sums

    def player_loss(self, params: Any, obs: Any, carry: Any, actions: Any, logits: Any,
                    rewards: Any, done: Any) -> tuple:
        """One player's loss on one environment's unroll (``obs [T + 1, ...]``)."""
        def one(p_carry: Any, x: tuple) -> tuple:
            o, d = x
            lg, v, c = self.net.apply({"params": params}, o, p_carry)
            c = jax.tree_util.tree_map(lambda z: jnp.where(d, 0.0, z), c)
            return c, (lg, v)

        if self.config.lstm:
            ends = jnp.concatenate([done, jnp.zeros(1, bool)])
            _, (lg, v) = jax.lax.scan(one, carry, (obs, ends))
        else:
            lg, v, _ = jax.vmap(lambda o: self.net.apply({"params": params}, o, ()))(obs)
        return sequence_loss(self.config, lg[:-1], v, actions, logits, rewards, done)

    def update(self, state: TrainState) -> tuple:
        """One rollout and one RMSProp step per player: ``(state, stats)``."""
        state, traj, sums = self.rollout(state)
        obs = jnp.concatenate([traj["obs"], traj["last_obs"][None]])     # [T + 1, E, N, ...]

        def total(params: Any, *xs: Any) -> tuple:
            per_env = jax.vmap(self.player_loss, in_axes=(None, 0, 0, 0, 0, 0, 0))
            loss, parts = per_env(params, *xs)
            return loss.mean(), jax.tree_util.tree_map(jnp.mean, parts)

        players = lambda x: jnp.moveaxis(x, (0, 1, 2), (2, 1, 0))   # noqa: E731 [N, E, T, ...]
        carry = jax.tree_util.tree_map(lambda c: jnp.moveaxis(c, 1, 0), traj["first_carry"])
        grads, parts = jax.vmap(jax.grad(total, has_aux=True),
                                in_axes=(0, 0, 0, 0, 0, 0, None))(
            state.params, players(obs), carry, players(traj["actions"]),
            players(traj["logits"]), players(traj["rewards"]), jnp.moveaxis(traj["done"], 0, 1))
        updates, opt_state = jax.vmap(self.config.optimizer().update)(
            grads, state.opt_state, state.params)
        params = jax.tree_util.tree_map(jnp.add, state.params, updates)
        return state.replace(params=params, opt_state=opt_state), {**parts, **sums}


def train(env: Any, config: ActorCriticConfig, *, seeds: Any, steps: int, records: int,
          mixing: Any, welfare: tuple = (), progress: Callable | None = None,
          params: Any = None) -> tuple:
    """Train every seed for ``steps`` updates: ``(record_steps, stats, final_state)``;
    ``stats`` (each ``[seeds, records, ...]``) are averaged over each record window.
    ``mixing`` is one ``[N, N]`` matrix or one per seed ``[seeds, N, N]`` (one compiled
    run then trains, say, selfish and cooperative seeds side by side). ``params``
    (``[seeds, N, ...]``, a final state's ``params``) continues training from those
    networks, with a fresh optimiser and fresh environments."""
    from spielplatz.learning.driver import run_seeds

    learner = ActorCritic(env, config, tuple(welfare))
    per_seed = np.ndim(mixing) == 3
    mixing = jnp.asarray(mixing, jnp.float32)
    if params is None:
        init = lambda g, k: learner.init(k, g if per_seed else mixing)  # noqa: E731
        games = mixing if per_seed else None
    else:
        leading = {np.shape(x)[0] for x in jax.tree_util.tree_leaves(params)}
        if leading != {len(seeds)}:
            raise SpielplatzError(f"train: params hold networks for {sorted(leading)} "
                                  f"seeds, not the {len(seeds)} seeds given")
        init = lambda g, k: learner.init(k, g["mixing"], g["params"])  # noqa: E731
        games = {"mixing": mixing if per_seed else
                 jnp.broadcast_to(mixing, (len(seeds), *mixing.shape)), "params": params}
    return run_seeds(init, lambda g, s: learner.update(s), lambda g, s: {}, seeds=seeds,
                     steps=steps, records=records, initial_record=False, progress=progress,
                     games=games)

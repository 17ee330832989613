"""Default hyper-parameters, with where they come from.

The D3C paper (Gemp et al., AAMAS 2022) gives hyper-parameters for
Algorithm 1 (Appendix G.1, Table 1) and for REINFORCE in Trust-Your-Brother
(G.1), and ``A_ii^0 = 0.99`` and ``nu = 0`` for every domain (Section 3). It
gives none for the exact-gradient experiments (Braess, prisoner's dilemma,
Appendix B/F games): those below are ours, chosen on the Braess network of
Figure 2a and the 10-player prisoner's dilemma and kept for every game; see
docs/learners.md for the numbers they reach.
"""

from __future__ import annotations

#: Exact-gradient learners (Section 2.5).
EXACT = {
    # Section 3: "we initialize A_ii = 0.99 and A_ij = 0.01/(n-1)".
    "a_ii": 0.99,
    # Section 3: "We set the D_KL coefficient to 0 except for in Coins".
    "nu": 0.0,
    # The paper gives no step sizes for its exact-gradient experiments. Ours
    # were picked on a grid (lr in {0.01, 0.03, 0.05}, lr_mix in {0.1, 0.3, 1},
    # epsilon in {0.1, 1}; 16 seeds) over Braess (Fig. 2a), the 10-player
    # prisoner's dilemma and the zero-sum election (F.5): Braess ends at a mean
    # ratio to optimal of 1.02-1.03 for every setting, the prisoner's dilemma at
    # 1.000 for lr_mix <= 0.3, and the election forms two teams only with
    # lr >= 0.03 and lr_mix = 0.1 (within-party weight 0.98 vs 0.3 otherwise).
    "lr": 0.03,           # strategy step size (Delta t)
    "lr_mix": 0.1,        # eta_A, entropic mirror descent on A_i
    # epsilon of eq. 11. With epsilon > 0 the ReLU stays open at a fixed point
    # of the strategies, so the weights keep moving towards mixtures whose
    # gradient flow lowers the agent's loss; with 0 they can freeze once the
    # strategies converge (Section 2.5's fixed-point remark).
    "epsilon": 0.1,
    # Which local price-of-anarchy bound: "additive" (eq. 11, the paper's
    # experiments), "log" (eq. 93) or "bound" (eqs. 9-10, with mu_bar).
    "rho": "additive",
    "mu_bar": 1.0,
    # Logit clipping [l, h] of the mixing weights: used only in the RL
    # domains (Section 3), so off here.
    "logit_min": None,
    "logit_max": None,
    # Number of records kept over training (metrics are [seeds, records, ...]).
    "records": 100,
    # Ours: a seed has diverged once a loss is non-finite or some |f_i| exceeds
    # divergence * max(1, largest |f_j| at step 0) (checked at the records).
    # Diverged seeds are flagged per seed (Run.diverged, Run.diverged_step) and
    # left out of summaries; "none" flags non-finite losses only.
    "divergence": 1000.0,
}

#: RL learners on Trust-Your-Brother-like games (Algorithms 1-3).
RL = {
    # eta_A. Table 1 gives 1.0 for Trust-Your-Brother; with it, A hardly
    # moves before REINFORCE has converged to the selfish outcome (about 200
    # updates): after 1000 updates ln(A_ii/A_ij) is still 4.5 (from 4.6) and
    # the median total return -5.0, as for selfish REINFORCE (64 seeds); after
    # 20000 updates A has reached equal weights but the converged policies no
    # longer learn (median still -5.0, 8 seeds). eta_A = 30/100/300/1000 give
    # medians -1.01/-1.00/-1.00/-1.00 after 1000 updates (64 seeds); 300 is our
    # choice (docs/learners.md). Use -o lr_mix=1 for the paper's value.
    "lr_mix": 300.0,
    # The rest of Table 1, row Trust-Your-Brother.
    "delta": 1.0,         # perturbation scale
    "nu": 0.0,            # KL coefficient
    "tau_min": 10,        # trial length bounds
    "tau_max": 20,
    "a_ii": 0.99,         # A_i^0
    "epsilon": 0.0,
    "logit_min": -5.0,    # l
    "logit_max": 5.0,     # h
    # G.1: REINFORCE learning rate 0.1, TD learning rate 0.1 for the linear
    # baseline, batches of 10 episodes.
    "lr": 0.1,
    "lr_value": 0.1,
    "batch": 10,
    # Ours: which return a trial tracks ("mixed": r~_i, the transformed
    # reward of eq. 11's f_i^A; "own": r_i) and the initial policy scale.
    "trial_return": "mixed",
    "init_scale": 0.0,
    "records": 100,
}

#: RL learners on jax_environment games (the Coins of Section 3.4) with A2C and V-trace.
AC = {
    # Table 1 (Appendix G.1), row Coins/Cleanup/HarvestPatch. With epsilon = 100 the
    # update is a random walk of eta_A * 100 per trial: on d3c_coins Figure 8a's
    # pattern needs -o lr_mix=2e-3 within 10000 updates (chosen on validation seeds,
    # docs/learners.md); Table 1's value needs several times more updates.
    "lr_mix": 1e-3,       # eta_A
    "delta": 0.1,         # perturbation scale
    # Table 1 gives nu = 1e-6; Section 3's text says 1e-5 for Coins. We follow the table.
    "nu": 1e-6,
    "tau_min": 5,
    "tau_max": 10,
    "a_ii": 0.99,
    "epsilon": 100.0,
    "logit_min": -5.0,
    "logit_max": 5.0,
    # Table 2: RMSProp learning rate of A2C (the rest of Table 2 are the host's
    # spielplatz.learning.actor_critic.ActorCriticConfig defaults).
    "lr": 4e-4,
    # Table 2: unroll length. Ours: environments per seed, the trial's return, records.
    "unroll": 100,
    "envs": 16,
    "trial_return": "mixed",
    "records": 100,
}

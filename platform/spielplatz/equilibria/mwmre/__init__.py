"""The MWMRE (C)CE in the host: its dual, written once, and its exact solve.

* :mod:`~spielplatz.equilibria.mwmre.dual`: the dual (loss, gradient,
  Hessian-vector product) as pure functions over numpy or jax arrays (NES
  appendix, Section A, Theorems 1/2); the neural solver trains on it.
* :func:`solve` (:mod:`~spielplatz.equilibria.mwmre.exact`): one game, projected
  Newton in float64 (:mod:`~spielplatz.equilibria.mwmre.newton` on a
  :class:`~spielplatz.equilibria.mwmre.problem.DualProblem`), the support LP for
  answers with zeros; a typed :class:`Result` with the duals per player in payoff
  units, the layout ``initial_duals`` takes back (warm starts).
* :func:`solve_batch` (:mod:`~spielplatz.equilibria.mwmre.batched`): many games
  of one shape with the JAX kernel (:mod:`~spielplatz.equilibria.mwmre.kernel`),
  every answer certified, uncertified games re-solved exactly; a
  :class:`BatchResult`.

Every solver that needs the MWMRE answer (a maximum-entropy solver, a neural
solver's refinement) calls these; none writes its own.
"""

from spielplatz.equilibria.mwmre.batched import BatchResult, solve_batch
from spielplatz.equilibria.mwmre.config import KKT_TOLERANCE
from spielplatz.equilibria.mwmre.kernel import BATCH_ITERATIONS
from spielplatz.equilibria.mwmre.dual import *  # noqa: F401,F403
from spielplatz.equilibria.mwmre.dual import __all__ as _dual_names
from spielplatz.equilibria.mwmre.exact import Result, solve

__all__ = ["solve", "solve_batch", "Result", "BatchResult", "KKT_TOLERANCE", "BATCH_ITERATIONS",
           *_dual_names]

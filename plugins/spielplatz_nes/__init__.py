"""Built-in solver plugin: the neural MWMRE (C)CE solver ``nes``.

A Neural Equilibrium Solver (NES appendix, Sections A-D) maps a game's payoffs
to the duals of the maximum-welfare minimum-relative-entropy (C)CE problem
(Theorems 1-2) with a player- and action-equivariant network; the joint is
recovered from the duals in closed form. It is trained without labels on the
dual loss. The package ships small trained models (``models/``), so
``spielplatz solve chicken --solver nes`` works with no training step.

Registration is cheap: jax and flax are imported only when the solver is used.
The plugin also adds the commands ``spielplatz train-solver`` and
``spielplatz evaluate-solver`` (:mod:`spielplatz_nes.commands`) through the
``register_commands`` hook, as any third-party plugin would.
"""

from spielplatz import Option, hookimpl

#: The solver's options, declared once: the host checks and coerces them
#: (``spielplatz solvers`` lists them; docs/cli.md shows this table).
OPTIONS = (
    Option("model", "any", None, "a shipped model (me_cce_8x8, me_ce_8x8, ...; see docs/nes.md) "
           "or a folder from `spielplatz train-solver`; default: the shipped model of the "
           "game's shape and concept", nullable=True),
    Option("refine", "any", 0, "'auto': the maxent solver warm-started from the network's "
           "duals, to its certified exact answer; K <= 80: at most K of its Newton steps; 0: "
           "the network alone"),
    Option("tol", "float", 1e-10, "gradient tolerance of refinement", positive=True),
    Option("parameterization", "str", "ME", "Table 3 row of the shipped model to use"),
    Option("target_joint", "array", None, "input of MRE/MT models: the target joint"),
    Option("welfare", "array", None, "input of MWME models: the welfare W(a)"),
    Option("target_epsilon", "floats", None, "input of eps-hat models: the target epsilon",
           nullable=True),
    Option("batch_size", "int", None, "games per network call (default 64 on CPU, 1024 on "
           "accelerators)", minimum=1, nullable=True, batch_only=True),
)


@hookimpl
def register_solvers(register):
    register("nes", "spielplatz_nes.solver:NESSolver",
             description="neural MWMRE (C)CE solver (approximate; fast batched inference, "
                         "optional exact refinement)",
             concepts=("ce", "cce"), exact=False, options=OPTIONS)


@hookimpl
def register_commands(cli):
    """Add ``train-solver`` and ``evaluate-solver`` (click only; jax loads inside them)."""
    from .commands import register

    register(cli)

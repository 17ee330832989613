"""Built-in game plugin: iterated two-player matrix games (normative disagreement, Sections
3.3 and 4.1, Appendix B; LOLA's iterated games).

``iterated(stage=NAME, gamma=0.96)`` repeats any registered 2-player matrix game; the
named games fix the stage: ``ipd`` (LOLA payoffs CC -1, CD -3, DC 0, DD -2), ``imp``
(matching pennies), ``iasymbos`` (the paper's asymmetric BoS, Figure 2 right), ``ibos``,
``ichicken`` and ``istag_hunt``. Each is a :class:`spielplatz.learning.iterated.IteratedMatrixGame`:
exact discounted values of memory-one policies, a JAX environment and a pyspiel twin.
Registration imports nothing heavy.
"""

from spielplatz import hookimpl

#: name -> (stage game, description)
NAMED = {
    "ipd": ("prisoners_dilemma", "iterated prisoner's dilemma, LOLA payoffs (CC -1, CD -3, "
            "DC 0, DD -2)"),
    "imp": ("matrix_mp", "iterated matching pennies"),
    "iasymbos": ("asymmetric_bos", "iterated asymmetric Bach or Stravinsky (BB (4,1), SS (2,2), "
                 "else (0,0))"),
    "ibos": ("battle_of_the_sexes", "iterated battle of the sexes"),
    "ichicken": ("chicken", "iterated chicken"),
    "istag_hunt": ("matrix_sh", "iterated stag hunt"),
}

PARAMETERS = {"gamma": 0.96, "init_scale": 1.0}


@hookimpl
def register_games(register):
    register("iterated", "spielplatz_iterated.loaders:iterated",
             description="any registered 2-player matrix game STAGE, repeated with discount "
                         "gamma (memory-one policies, exact values)",
             parameters={"stage": "prisoners_dilemma", **PARAMETERS},
             tags=("iterated",), default_learner="lola")
    for name, (stage, description) in NAMED.items():
        register(name, f"spielplatz_iterated.loaders:{name}", description=description,
                 parameters=dict(PARAMETERS), tags=("iterated",), default_learner="lola")

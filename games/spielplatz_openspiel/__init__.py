"""Built-in game plugin: every pyspiel game, plus the papers' matrix games.

Registration is cheap: nothing here imports numpy or pyspiel; the loaders live
in :mod:`spielplatz_openspiel.paper_games` and :mod:`spielplatz_openspiel.catalog`.
"""

from spielplatz import hookimpl

#: name -> (loader attribute in paper_games, description)
PAPER_GAMES = {
    "chicken": ("chicken", "Chicken / Hawk-Dove of the MaxEnt CE tutorial (Swerve, Straight)"),
    "battle_of_the_sexes": ("battle_of_the_sexes",
                            "Battle of the Sexes of the MaxEnt CE tutorial (Opera, Football)"),
    "asymmetric_bos": ("asymmetric_bos",
                       "asymmetric Bach-or-Stravinsky of the normative-disagreement paper"),
    "prisoners_dilemma": ("prisoners_dilemma",
                          "prisoner's dilemma stage game with LOLA's payoffs (C, D)"),
    "nes_ce_counterexample": ("nes_ce_counterexample",
                              "NES appendix Table 5a: max-welfare CE avoids the max-welfare joint"),
    "nes_cce_counterexample": ("nes_cce_counterexample",
                               "NES appendix Table 5b: max-welfare CCE vs softmax-welfare target"),
}


@hookimpl
def register_games(register):
    for name, (attr, description) in PAPER_GAMES.items():
        register(name, f"spielplatz_openspiel.paper_games:{attr}", description=description,
                 parameters={}, tags=("paper", "matrix"))
    register.catalog("openspiel", "spielplatz_openspiel.catalog:names",
                     "spielplatz_openspiel.catalog:load",
                     description="every registered pyspiel game, with OpenSpiel parameters, "
                                 "e.g. blotto(coins=4,fields=3)")

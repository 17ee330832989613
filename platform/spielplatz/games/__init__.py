"""Games: the normal-form model, Gambit ``.nfg`` and JSON game files, joint
distribution files, game strings and the OpenSpiel bridge.
"""

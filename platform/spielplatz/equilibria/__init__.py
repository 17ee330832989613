"""(C)CE mathematics shared by every solver: deviation gains, sparse
constraints, polytope faces, measures, payoff scaling, certificates, the
HiGHS LP wrapper, the MWMRE dual and its exact solve, built-in welfare functions.
"""

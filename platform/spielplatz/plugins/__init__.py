"""The plugin host: hook specifications, the plugin manager and its isolation
guard, registries, declared options and value checks, solver/learner protocols.
"""

"""Frozen dataclasses that are JAX pytrees.

A game whose numbers are pytree leaves can be stacked (``jax.tree.map(np.stack,
games)``) and trained under ``jax.vmap`` - one network per seed, as in the
D3C paper's Figure 2b.
"""

from __future__ import annotations

import dataclasses
from typing import Callable


def pytree_dataclass(*, data: tuple[str, ...]) -> Callable[[type], type]:
    """Make ``cls`` a frozen dataclass and register it as a JAX pytree.

    Parameters
    ----------
    data : tuple of str
        Fields that are array leaves; every other field is static metadata
        (it must be hashable and equal across games that are stacked).
    """

    def wrap(cls: type) -> type:
        cls = dataclasses.dataclass(frozen=True)(cls)
        import jax

        names = [f.name for f in dataclasses.fields(cls)]
        meta = [n for n in names if n not in data]
        jax.tree_util.register_dataclass(cls, data_fields=list(data), meta_fields=meta)
        return cls

    return wrap


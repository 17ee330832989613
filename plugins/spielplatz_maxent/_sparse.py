"""The sparse ``constraints x joint-actions`` matrix in the dual's row order.

Private helper of the ``maxent`` solver (Newton systems on small free sets, the
support LP). The matrix itself comes from the host,
:func:`spielplatz.constraints.constraint_matrix`; here its rows are placed in
the order of :func:`spielplatz.mwmre.flatten_duals`: player by player, CE rows
``(a', a'')`` in C order of the ``[A_p, A_p]`` dual *including* its diagonal
(whose rows stay empty), CCE rows ``a'``. Columns are joint actions in C order.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from spielplatz.constraints import constraint_matrix


def gain_matrix(payoffs: np.ndarray, concept: str) -> sp.csr_matrix:
    """``A[k, a]``: the gain of constraint ``k`` at joint action ``a`` (CSR)."""
    host = constraint_matrix(payoffs, concept).tocoo()
    if concept != "ce":
        return host.tocsr()
    rows, start = [], 0
    for a in payoffs.shape[1:]:
        rows.append(start + np.flatnonzero(~np.eye(a, dtype=bool).ravel()))
        start += a * a
    remap = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    return sp.csr_matrix((host.data, (remap[host.row], host.col)), shape=(start, host.shape[1]))

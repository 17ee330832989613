"""Shared fixtures: the real Gambit games, random games, a loop reference for gains."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
GAMBIT_DIR = ROOT.parent / "shared" / "realgames" / "gambit"


def gambit_files() -> list[Path]:
    files = sorted(GAMBIT_DIR.glob("*.nfg"))
    assert files, f"the real Gambit games are missing: expected them in {GAMBIT_DIR}"
    return files


@pytest.fixture(scope="session")
def gambit_dir() -> Path:
    assert GAMBIT_DIR.is_dir(), f"missing {GAMBIT_DIR} (shared/ must sit beside the checkout)"
    return GAMBIT_DIR


def random_game(rng: np.random.Generator, shape: tuple[int, ...]):
    from spielplatz import NormalFormGame

    return NormalFormGame(rng.normal(size=(len(shape),) + tuple(shape)), name="random")


def random_joint(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    joint = rng.exponential(size=shape)
    return joint / joint.sum()


def loop_ce_gains(payoffs: np.ndarray, joint: np.ndarray) -> list[np.ndarray]:
    """Straightforward loop implementation of CE deviation gains (the reference)."""
    n = payoffs.shape[0]
    shape = payoffs.shape[1:]
    out = []
    for p in range(n):
        g = np.zeros((shape[p], shape[p]))
        for a in itertools.product(*(range(k) for k in shape)):
            for dev in range(shape[p]):
                b = list(a)
                b[p] = dev
                g[a[p], dev] += joint[a] * (payoffs[(p,) + tuple(b)] - payoffs[(p,) + a])
        out.append(g)
    return out


def loop_cce_gains(payoffs: np.ndarray, joint: np.ndarray) -> list[np.ndarray]:
    """Straightforward loop implementation of CCE deviation gains (the reference)."""
    n = payoffs.shape[0]
    shape = payoffs.shape[1:]
    out = []
    for p in range(n):
        g = np.zeros(shape[p])
        for a in itertools.product(*(range(k) for k in shape)):
            for dev in range(shape[p]):
                b = list(a)
                b[p] = dev
                g[dev] += joint[a] * (payoffs[(p,) + tuple(b)] - payoffs[(p,) + a])
        out.append(g)
    return out

"""Benchmark results: printed as they come and, if asked, written to a JSON file."""

from __future__ import annotations

import json
import os


class Recorder:
    """Collects a benchmark file's measurements; ``ENV_VAR=path`` also writes them as JSON."""

    def __init__(self, env_var: str):
        self.env_var = env_var
        self.results: dict = {}

    def __call__(self, key: str, value: dict) -> None:
        self.results[key] = value
        print(f"\n{key}: {json.dumps(value)}")
        path = os.environ.get(self.env_var)
        if path:
            with open(path, "w") as fh:
                json.dump(self.results, fh, indent=1)

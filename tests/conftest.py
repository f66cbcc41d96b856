"""Test-wide settings.

Property tests explore new random examples on every developer run; in CI (`CI` set) they run derandomised, so a
submission's result is reproducible and a red CI always points at a real, replayable counterexample.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

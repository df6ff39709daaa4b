"""A synthetic partner program with planted effects, for the demo and the tests."""

from __future__ import annotations

from partnerlift.simulation.program import (
    SimulatedProgram,
    simulate_program,
    write_program,
)

__all__ = ["SimulatedProgram", "simulate_program", "write_program"]

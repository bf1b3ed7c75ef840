"""Realistic generated returns for demos, tests and benchmarks."""

from devtools.generator.inbox import (
    DEFAULT_DISTRICTS,
    DEMO_CYCLES,
    GeneratedInbox,
    Planted,
    ProblemRates,
    generate_inbox,
)

__all__ = [
    "DEFAULT_DISTRICTS",
    "DEMO_CYCLES",
    "GeneratedInbox",
    "Planted",
    "ProblemRates",
    "generate_inbox",
]

"""Development tools, not shipped in the wheel: the synthetic-inbox generator (demo, tests,
benchmarks) and the demonstration driver (`python -m devtools demo`, run by `./dev demo`)."""

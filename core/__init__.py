"""Shared building blocks: cycles, reference data, settings and the warehouse connection."""

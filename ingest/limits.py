"""The ingest's limits: what one file may hold before it is refused (see docs/limits.md).

Each is checked while reading, before anything large is built in memory."""

from __future__ import annotations

MAX_VALUE = 1_000_000_000
"""Largest figure accepted: far above any commune's count (a commune has at most some 10^5
children), and low enough that the sum of every figure of every commune, element and cycle
(~10,500 communes x 60 elements x decades of cycles, < 10^17) fits a BIGINT (9.2 x 10^18)."""

MAX_FILE_BYTES = 20 * 1024 * 1024
"""A return's file size: a commune's is a few KB, a province agency's a few hundred KB."""

MAX_INFLATED_BYTES = 50 * 1024 * 1024
"""An xlsx's content once unzipped (every part together): a return inflates to well under 1 MB."""

MAX_ROWS = 100_000
"""Figure rows in one file: a province agency after the reform reports ~150 communes x ~20
elements, some 3,000 rows."""

MAX_FIELD_CHARS = 32_767
"""Characters in one CSV field: what an Excel cell holds."""

MAX_SHEET_CELLS = 2_000_000
"""Rows x columns spanned by a sheet's cells: calamine allocates the whole rectangle, so one
cell at XFD1048576 in a 5 KB file would need 17 billion cells."""

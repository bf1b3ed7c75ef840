"""Small text helpers for Vietnamese names and numbers."""

from __future__ import annotations

import unicodedata


def fold_diacritics(text: str) -> str:
    """'Đồng Tháp' -> 'Dong Thap': names without diacritics, for file names and ASCII mail."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def format_vi_number(value: float | int | None, decimals: int = 0) -> str:
    """Format the Vietnamese way: '.' groups thousands, ',' marks decimals (1.234; 9,5)."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")

"""The raw archive: every file received, byte for byte, under its sha256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_path(archive_dir: Path, sha256: str, file_name: str) -> Path:
    """`<archive>/ab/abcdef…0123.xlsx`: content-addressed, with the original extension."""
    suffix = Path(file_name).suffix.lower()[:10]
    return archive_dir / sha256[:2] / f"{sha256}{suffix}"


def archive_bytes(archive_dir: Path, sha256: str, file_name: str, data: bytes) -> Path:
    """Store the bytes once; a second call with the same content writes nothing."""
    target = archive_path(archive_dir, sha256, file_name)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)  # atomic: a reader never sees half a file
    return target

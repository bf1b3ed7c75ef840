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
    """Store the bytes once; a second call with the same content writes nothing. Returns hold
    personal data: folders are 0700 and files 0600, readable by the service only."""
    target = archive_path(archive_dir, sha256, file_name)
    if target.exists():
        return target
    for folder in (archive_dir, target.parent):
        if not folder.is_dir():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)  # mkdir's mode is masked by the umask
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(target)  # atomic: a reader never sees half a file
    return target

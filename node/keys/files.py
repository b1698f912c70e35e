# SPDX-License-Identifier: Apache-2.0
"""Writing key and trust files: whole or not at all, with the mode they must have.

A file is written to a temporary name beside it, fsynced and renamed over the old one,
so a reader (another process, or this one after a power cut) sees the old bytes or the
new, never half of either. Secrets are created 0600 from the start; public trust files
(certificates, signed lists) 0644.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from node.errors import StorageError

SECRET_MODE = 0o600
PUBLIC_MODE = 0o644


def write_atomic(path: Path, data: bytes, *, mode: int = PUBLIC_MODE) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # O_CREAT's mode passes through the umask; set it exactly
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_new(path: Path, data: bytes, *, mode: int = SECRET_MODE) -> None:
    """Create ``path`` (it must not exist) holding ``data``, fsynced, with ``mode``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def check_private(path: Path) -> None:
    """Refuse a secret file that others may read or write (and its directory).

    On POSIX, group or other permission bits on a key file mean someone else on the PC
    may have copied it; starting anyway would hide that. Windows keeps access in ACLs,
    not mode bits, so there the check is the installer's (deploy/README.md).

    Raises:
        StorageError: ``key_file_mode``, naming the file and the command that fixes it.
    """
    if os.name != "posix":
        return
    for target in (path, path.parent):
        mode = stat.S_IMODE(target.stat().st_mode)
        if mode & 0o077:
            raise StorageError(
                f"密钥文件 {target} 的权限为 {mode:04o}，其他用户可读写，已拒绝使用；"
                f"请检查是否被复制，然后执行 chmod go-rwx {target}",
                f"the key file {target} has mode {mode:04o}: other users may read or write "
                f"it, so it is not used. Check whether it was copied, then run "
                f"`chmod go-rwx {target}`",
                code="key_file_mode",
            )

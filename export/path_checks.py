"""Path arguments checked before any work starts, and OS errors as one-line messages naming the path and the problem.

Every CLI path argument (model, data, artifact, export directory, report files) goes through these, so a user sees
"--junit 'reports': is a directory; give a file path", never Python's `[Errno 21] Is a directory: 'reports'`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from export.errors import InputFileError, UsageError

# What each errno means for the user, in words (strerror texts vary by platform and read like C library output).
_PROBLEMS = {
    errno.ENOENT: "no such file or directory",
    errno.EISDIR: "is a directory; give a file path",
    errno.ENOTDIR: "a parent of this path is not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.EEXIST: "already exists",
    errno.EBUSY: "is in use (a mount point or the working directory?)",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many levels of symbolic links",
}


def describe_os_error(exc: OSError) -> str:
    """"cannot use 'PATH': PROBLEM" — an OSError as one line without the errno number."""
    problem = _PROBLEMS.get(exc.errno or -1) or (exc.strerror or type(exc).__name__).lower()
    if exc.filename is None:
        return f"{problem}"
    target = f"'{os.fsdecode(exc.filename)}'"
    if exc.filename2 is not None:
        target += f" -> '{os.fsdecode(exc.filename2)}'"
    return f"cannot use {target}: {problem}"


def existing_file(path: str | Path, what: str) -> Path:
    """`path` as a Path if it is a readable regular file; otherwise InputFileError naming `what` and the problem."""
    path = Path(path)
    if path.is_dir():
        raise InputFileError(f"{what} '{path}' is a directory; give a file")
    if not path.exists():
        raise InputFileError(f"{what} '{path}' does not exist")
    if not path.is_file():
        raise InputFileError(f"{what} '{path}' is not a regular file")
    if not os.access(path, os.R_OK):
        raise InputFileError(f"{what} '{path}' is not readable (permission denied)")
    return path


def existing_dir(path: str | Path, what: str) -> Path:
    """`path` as a Path if it is a directory; otherwise InputFileError naming `what` and the problem."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{what} '{path}' does not exist")
    if not path.is_dir():
        raise InputFileError(f"{what} '{path}' is not a directory")
    return path


def writable_file(path: str | Path, flag: str) -> Path:
    """Check that a report file named by `flag` (e.g. --junit) can be written, before the work that fills it."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{flag} '{path}' is a directory; give a file path")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise UsageError(f"{flag} '{path}': directory '{parent}' does not exist (create it first)")
    if not parent.is_dir():
        raise UsageError(f"{flag} '{path}': '{parent}' is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{flag} '{path}' is not writable (permission denied)")
    return path

"""Output directories mlexport writes (`export --out`, `ios-stub --out`): checked before any work, written atomically.

Rules (README "Command line"): the output is never the working directory or one of its parents (replacing it would
pull the floor from under the shell, and `rename` of a busy directory fails half-way); an existing output is
replaced only with `--force` and only when it is empty or is what mlexport itself wrote there (`replaceable` says
what that is) — nothing of the user's is ever deleted. Everything is written into a temporary sibling that is renamed
into place when complete; on every failure path the temporaries are removed and an old output is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from export.errors import OutputDirError

# Names of the temporaries beside the output: `.NAME.partial-*` (the new content) and `.NAME.old-*` (the old output
# while it is swapped out).
PARTIAL_INFIX = ".partial-"
OLD_INFIX = ".old-"


def check_output_dir(out: Path, *, force: bool, replaceable: Callable[[Path], str | None], flag: str = "--out") -> None:
    """Refuse an output path mlexport must not write (one-line OutputDirError naming it). `replaceable(out)` returns
    None when an existing `out` may be replaced, else the reason it may not (e.g. the user's files it holds)."""
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        where = "the working directory" if resolved == cwd else "a parent of the working directory"
        raise OutputDirError(f"{flag} '{out}' is {where}; choose a new directory (e.g. {flag} {_suggestion(out)})")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise OutputDirError(f"{flag} '{out}' exists and is not a directory")
        if not force:
            raise OutputDirError(f"{flag} '{out}' already exists; pass --force to replace it")
        reason = None if not any(out.iterdir()) else replaceable(out)
        if reason is not None:
            raise OutputDirError(f"--force will not replace '{out}': {reason}; nothing was changed (move those "
                                 "files away or choose another directory)")
    existing = _nearest_existing(resolved.parent)  # missing parents are created (like mkdir -p), then written
    if not existing.is_dir():
        raise OutputDirError(f"cannot create '{out}': '{existing}' is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputDirError(f"cannot create '{out}': directory '{existing}' is not writable")


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def name_some(paths: list[str], limit: int = 3) -> str:
    """'a, b, c and 4 more': the files a refusal names."""
    return ", ".join(paths[:limit]) + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def _suggestion(out: Path) -> str:
    return str(Path(out) / "mlexport-out")


@contextlib.contextmanager
def atomic_output_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `out`; when the block succeeds, swap it into place (an existing `out` is renamed
    aside, then deleted only after the new one is in place, or restored if that rename fails). Any failure removes
    every temporary and leaves `out` as it was."""
    resolved = out.resolve()
    parent, name = resolved.parent, resolved.name
    created = [p for p in (parent, *parent.parents) if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}{PARTIAL_INFIX}", dir=parent))
    except OSError as exc:
        _remove_empty(created)
        raise OutputDirError(f"cannot write into '{parent}': {exc.strerror or exc}") from None
    done = False
    try:
        yield staging
        os.chmod(staging, 0o755)  # mkdtemp makes 0700; an output directory is an ordinary directory
        _swap_into_place(staging, resolved, out)
        done = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful swap
        if not done:
            _remove_empty(created)


def _remove_empty(created: list[Path]) -> None:
    """Remove the parent folders this write created (innermost first), so a failure leaves nothing behind."""
    for folder in created:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _swap_into_place(staging: Path, resolved: Path, out: Path) -> None:
    if not resolved.exists():
        _rename(staging, resolved, out)
        return
    try:
        aside = Path(tempfile.mkdtemp(prefix=f".{resolved.name}{OLD_INFIX}", dir=resolved.parent))
    except OSError as exc:
        raise OutputDirError(f"cannot write into '{resolved.parent}': {exc.strerror or exc}") from None
    try:
        _rename(resolved, aside / "replaced", out)
    except BaseException:
        aside.rmdir()
        raise
    try:
        _rename(staging, resolved, out)
    except BaseException:
        os.replace(aside / "replaced", resolved)  # put the old output back (if even that fails, keep it aside)
        aside.rmdir()
        raise
    shutil.rmtree(aside, ignore_errors=True)  # the old output, which check_output_dir allowed to replace


_os_replace = os.replace  # the renames of a swap (a seam for the failure-path tests)


def _rename(source: Path, target: Path, out: Path) -> None:
    try:
        _os_replace(source, target)
    except OSError as exc:
        raise OutputDirError(f"cannot replace '{out}': {exc.strerror or exc}; it was left as it was") from None

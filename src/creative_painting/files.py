"""Outputs that are whole, readable and never at the cost of the user's files.

- Atomic writes: a crash or a kill never leaves a half-written output or checkpoint behind.
- Permissions follow the user's umask, like any Unix tool (temporary files start as 0600).
- Output folders carry a marker listing what we wrote: we replace only our own outputs, and only
  when asked to (`--overwrite`); a folder holding anything else is refused, never emptied.
- A lock file with the pid keeps two runs out of one folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from creative_painting.errors import UserError

MARKER = ".creative-painting.json"
LOCK = ".creative-painting.lock"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _follow_umask(path: Path, directory: bool = False) -> None:
    """mkstemp/mkdtemp create 0600/0700: give the file the mode a plain open()/mkdir() would have."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def follow_umask_tree(folder: Path) -> None:
    """Every file and folder under `folder` gets the mode the user's umask gives new ones."""
    for p in folder.rglob("*"):
        if not p.is_symlink():
            _follow_umask(p, directory=p.is_dir())


def _beside(path: Path, make: Callable) -> Any:
    """A temporary file (`mkstemp`) or folder (`mkdtemp`) in the folder of `path`, which is made if need be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"cannot write {path}: a part of its folder path is a file") from None
    except OSError as e:
        raise UserError(f"cannot create the folder {path.parent}: {e.strerror}") from None
    try:
        return make(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise UserError(f"cannot write in {path.parent}: {e.strerror}") from None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename.

    The temporary file lives in the same folder so that `os.replace` is atomic on POSIX.
    """
    path = Path(path)
    fd, tmp = _beside(path, tempfile.mkstemp)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as f:
            os.fsync(f.fileno())
        _follow_umask(tmp_path)
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, replace: bool = True) -> Iterator[Path]:
    """Yield a staging folder beside `path`; on success it becomes `path` in one rename.

    With `replace=True` an existing `path` is removed first: callers pass it only for folders that
    are ours (see `claim_output_dir`). With `replace=False` a `path` that appeared meanwhile (another
    process finished first) is kept.
    """
    path = Path(path)
    staging = Path(_beside(path, tempfile.mkdtemp))
    try:
        yield staging
        _follow_umask(staging, directory=True)
        if path.exists() and replace:
            shutil.rmtree(path)
        try:
            os.rename(staging, path)
        except OSError:
            if replace or not path.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def is_empty(folder: Path) -> bool:
    """No folder, or nothing in it but a lock file left by a run that stopped early."""
    return not folder.is_dir() or all(p.name == LOCK for p in folder.iterdir())


def _listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


def read_marker(folder: Path) -> dict | None:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("files"), list) else None


def claim_output_dir(path: str | os.PathLike, kind: str, *, overwrite: bool = False) -> Path:
    """Check, before any work, that `path` can take a new output of `kind`; raise a one-line error if not.

    A new or empty folder is fine. A folder holding a previous output of ours (its marker lists every
    file in it) is replaced only with `overwrite`. Anything else is refused: we never delete what we
    did not write.
    """
    path = check_location(path)
    if is_empty(path):
        return path
    marker = read_marker(path)
    if marker is None:
        raise UserError(f"{path} is not empty and was not written by creative-painting; "
                        "choose a new or empty folder (nothing was changed)")
    if marker.get("kind") != kind:
        raise UserError(f"{path} holds a {marker.get('kind')} output, not {kind}; choose another folder")
    extra = _listing(path) - set(marker["files"]) - {MARKER, LOCK}
    if extra:
        raise UserError(f"{path} holds files creative-painting did not write ({sorted(extra)[0]}, ...); "
                        "choose a new or empty folder (nothing was changed)")
    if not overwrite:
        raise UserError(f"{path} holds a previous {kind} output; pass --overwrite to replace it, "
                        "or choose another folder")
    return path


def check_resumable_dir(path: str | os.PathLike, kind: str) -> Path:
    """Check, writing nothing, that `path` is new, empty, or marked as a `kind` folder of ours."""
    path = check_location(path)
    if not is_empty(path):
        marker = read_marker(path)
        if marker is None or marker.get("kind") != kind:
            raise UserError(f"{path} is not empty and is not a {kind} folder of ours; choose a new or empty folder")
    return path


def claim_resumable_dir(path: str | os.PathLike, kind: str) -> Path:
    """A folder a run fills over time and resumes in (see `check_resumable_dir`); a new one gets our marker."""
    path = check_resumable_dir(path, kind)
    if is_empty(path):
        atomic_write_text(path / MARKER, json.dumps({"kind": kind, "files": []}))
    return path


def claim_output_file(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check, before any work, that a single output file can be written at `path`."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"output {path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise UserError(f"{path} exists; pass --overwrite to replace it, or choose another name")
    check_location(path.parent)
    return path


def check_location(path: str | os.PathLike) -> Path:
    """`path` is, or can become, a folder we can write in: no file on its way, a writable ancestor."""
    path = Path(path)
    for parent in [path, *path.parents]:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                where = "is a file" if parent == path else f"is under {parent}, which is a file"
                raise UserError(f"output {path} {where}; choose a folder")
            break
    else:
        parent = Path(".")
    if not _writable(parent):
        raise UserError(f"cannot write to {parent}: permission denied or read-only file system")
    return path


@contextlib.contextmanager
def output_dir(path: str | os.PathLike, kind: str, *, overwrite: bool = False) -> Iterator[Path]:
    """Stage a whole output folder and swap it in when complete, with a marker that lists its files."""
    path = claim_output_dir(path, kind, overwrite=overwrite).resolve()
    with atomic_dir(path, replace=True) as staging:
        yield staging
        follow_umask_tree(staging)  # libraries' save_pretrained may leave 0600 files
        atomic_write_text(staging / MARKER, json.dumps({"kind": kind, "files": sorted(_listing(staging))}))


def _writable(folder: Path) -> bool:
    """Try it: permissions, read-only mounts and ACLs all show up, also for root."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


@contextlib.contextmanager
def run_lock(folder: str | os.PathLike, *, enabled: bool = True) -> Iterator[None]:
    """Hold `folder/.creative-painting.lock` (an flock, released even on SIGKILL) while a run writes there.

    The second run on a folder gets a one-line error naming the holder's pid. The file is removed on release."""
    if not enabled:
        yield
        return
    import fcntl

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create {folder}: {e.strerror or e}") from None
    lock = folder / LOCK
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise UserError(f"{folder} is in use by another run (pid {holder}); wait for it or choose another folder") from None
        try:  # the holder before us may have removed the file after we opened it: lock the one on disk
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still held: nothing of the run's bookkeeping stays behind
        os.close(fd)

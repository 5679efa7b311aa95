"""USB sticks on the coordinator's pages: the sticks mounted on the box, the folder to import
from (on a stick, or an uploaded .tar when the stick is in a phone or laptop), and a folder
made for a stick sent as one .tar download instead; and writing onto a stick someone else
prepared without following the links it holds."""

from __future__ import annotations

import io
import os
import secrets
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, flash, request, send_file
from flask_babel import gettext as _

MOUNT_POINTS = ("/media/*/*", "/media/*", "/run/media/*/*", "/mnt/*")
LARGEST_UPLOAD = 60 * 1024 * 1024  # below the server's own cap; bigger ones go by stick


def own_folder(path: Path) -> Path:
    """`path` made a folder of its own: a link there (it could lead anywhere on this node) is
    removed first."""
    if path.is_symlink():
        path.unlink()
    path.mkdir(parents=True, exist_ok=True)
    return path


def replace_file(path: Path, write: Callable[[Path], object]) -> Path:
    """`write(new)` fills a new file under a name nothing else has, which then replaces
    `path`: a link left at `path` is replaced, never written through."""
    new = path.parent / f".{path.name}.{secrets.token_hex(4)}.part"
    with open(new, "x"):
        pass
    try:
        write(new)
        os.replace(new, path)
    except BaseException:
        new.unlink(missing_ok=True)
        raise
    return path


def mounted() -> list[str]:
    """Mounted removable drives (the usual mount points)."""
    found = set()
    for pattern in MOUNT_POINTS:
        found.update(str(path) for path in Path("/").glob(pattern.lstrip("/"))
                     if path.is_dir() and path.is_mount())
    return sorted(found)


@contextmanager
def chosen_folder(upload_field: str) -> Iterator[Path | None]:
    """What the coordinator chose to import: the uploaded .tar in `upload_field`, unpacked
    safely into a work folder removed afterwards (left empty when it is not a tar file), or
    the folder typed in the form; None, with a message shown, when that folder is not there."""
    upload = request.files.get(upload_field)
    if upload and upload.filename:
        work = Path(tempfile.mkdtemp(prefix="upload-", dir=current_app.instance_path))
        try:
            unpack(upload.stream, work)
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    folder = Path(request.form.get("folder", "").strip() or "/nonexistent")
    if not folder.is_absolute() or not folder.exists():
        flash(_("There is no folder %(folder)s on the box. Is the stick plugged in?",
                folder=folder), "error")
        yield None
        return
    yield folder


def unpack(stream, work: Path) -> bool:
    """An uploaded .tar unpacked safely, whole or not at all: plain files and folders only,
    none outside `work` (bundles and packs hold nothing else; a link could lead out). False,
    and `work` left empty, when it is not such a tar file."""
    try:
        with tarfile.open(fileobj=stream, mode="r:*") as archive:
            members = archive.getmembers()
            for member in members:  # every member checked before any is written
                if not (member.isfile() or member.isdir()) or \
                        tarfile.data_filter(member, str(work)).name != member.name:
                    raise tarfile.FilterError(member.name)  # a link, a device, /abs or ../
            archive.extractall(work, members=members, filter="data")
    except (tarfile.TarError, OSError, ValueError):
        shutil.rmtree(work, ignore_errors=True)  # what came before the bad member too
        work.mkdir(exist_ok=True)
        return False
    return True


def tar_download(write: Callable[[Path], Path], name: str | None = None):
    """Send the folder `write(work)` makes inside a work folder as one .tar download (named
    after it unless `name` is given)."""
    work = Path(tempfile.mkdtemp(prefix="download-", dir=current_app.instance_path))
    try:
        made = write(work)
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as archive:
            archive.add(made, arcname=made.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    data.seek(0)
    return send_file(data, as_attachment=True, max_age=0, mimetype="application/x-tar",
                     download_name=name or f"{made.name}.tar")

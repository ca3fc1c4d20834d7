"""Files written all or nothing: every figure goes to a hidden temporary in the output folder and
is renamed into place only when the whole set is done (:meth:`Outputs.commit`); on an error or an
interrupt the temporaries are removed and the folder is as it was (a folder the run created is
removed again while it stays empty). Temporaries are named ``.NAME.PID.RANDOM.tmp``, so a later run
removes those a killed run left behind.

The renames run under a journal (:data:`JOURNAL`, the list of renames, written before the first
and removed after the last): a run killed halfway through them (SIGKILL, the OOM killer) leaves
it, and the next run into the folder finishes those renames before anything else, so the folder
ends with one run's whole set, never a mix of two. Files are replaced one by one, in place, rather
than by swapping the whole folder: a swap would take the user's other files in the folder with it
and leave every shell and program whose working directory is the folder in a deleted one.

Errors here are neutral (:class:`OutputFolderError`, :class:`GifTooLarge`): the command-line tool
words them with its options.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from imle_cli.render import raster, vector
from imle_cli.render.gif import GifStream
from imle_cli.render.scene import Scene


def palette_image(frame: np.ndarray, palette: np.ndarray):
    """A PIL palette image of a frame of palette indices [height, width]."""
    from PIL import Image

    image = Image.frombytes("P", (frame.shape[1], frame.shape[0]), np.ascontiguousarray(frame).tobytes())
    image.putpalette(palette.astype(np.uint8).ravel().tolist())
    return image


def still_bytes(scenes: Sequence[Scene], columns: int = 1, fmt: str = "png", dpi: float = 100.0,
                quick: bool = False) -> bytes:
    """The bytes of a still of the scenes (tiled row by row): what :meth:`Outputs.still` writes,
    for a server to send (the studio's exports); ``quick``: the same pixels, compressed less (the
    studio's live panels, redrawn at every setting)."""
    return _still(scenes, columns, fmt, dpi, 1 if quick else 6)[0]


def _still(scenes: Sequence[Scene], columns: int, fmt: str, dpi: float, level: int = 6) -> Tuple[bytes, int, int]:
    """(a still's bytes, its width and height in pixels); ``level``: PNG's zlib level (6, Pillow's default)."""
    import io

    buffer = io.BytesIO()
    if fmt == "png":
        frames = [raster.draw(scene) for scene in scenes]
        if any(not np.array_equal(scene.palette, scenes[0].palette) for scene in scenes):
            # scenes of several colour scales (I-MLE's mechanism): tiled in RGB, each in its own colours
            from PIL import Image

            frame = raster.grid_of([scene.palette[f] for scene, f in zip(scenes, frames)], columns)
            Image.fromarray(frame).save(buffer, format="PNG", optimize=False, compress_level=level)
            return buffer.getvalue(), frame.shape[1], frame.shape[0]
        frame = raster.grid_of(frames, columns) if len(frames) > 1 else frames[0]
        palette_image(frame, scenes[0].palette).save(buffer, format="PNG", optimize=False, compress_level=level)
        return buffer.getvalue(), frame.shape[1], frame.shape[0]
    figure = vector.sheet(scenes, columns)
    width, height = figure.get_size_inches() * dpi
    vector.save(figure, buffer, fmt, dpi)
    return buffer.getvalue(), int(width), int(height)


#: Seconds to wait after each rename of a commit (IMLE_TEST_SLOW_COMMIT): a test's slow file system.
_SLOW_COMMIT = float(os.environ.get("IMLE_TEST_SLOW_COMMIT", "0") or 0)


class OutputFolderError(Exception):
    """The output folder cannot take the files: ``problem`` says why, ``advice`` what to do."""

    def __init__(self, folder: Path, problem: str, advice: str):
        super().__init__(f"{str(folder)!r} {problem}; {advice}")
        self.folder, self.problem, self.advice = folder, problem, advice


class GifTooLarge(Exception):
    """A GIF would be larger than the limit: its estimated size, frames and frame size."""

    def __init__(self, name: str, megabytes: float, frames: int, width: int, height: int, limit: float):
        super().__init__(f"{name} would be about {megabytes:,.0f} MB ({frames} frames of {width}x{height} pixels), "
                         f"above {limit:g} MB")
        self.name, self.megabytes, self.frames, self.width, self.height, self.limit = \
            name, megabytes, frames, width, height, limit


@dataclass
class WrittenFile:
    name: str
    frames: int
    width: int
    height: int
    bytes: int


_TEMPORARY = re.compile(r"^\.(?:.+)\.(\d+)\.[^.]+\.tmp(?:\.mp4)?$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: Path, locked: bool = False) -> List[str]:
    """Remove the hidden temporaries (.NAME.PID.RANDOM.tmp) that a killed run (SIGKILL, a power
    cut) left in ``folder``: with the folder ``locked`` by this run, every one (a live run would
    hold the lock; its PID may be another PID namespace's, a container sharing the volume),
    else those whose process is gone. Returns their names."""
    removed = []
    for path in folder.iterdir():
        match = _TEMPORARY.match(path.name)
        if match and int(match.group(1)) != os.getpid() and (locked or not _alive(int(match.group(1)))):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


#: The commit's journal in the output folder: ``{"pid": ..., "renames": [[temporary, file], ...]}``.
#: Present only while a commit runs, or after its run was killed during one.
JOURNAL = ".imle-cli-commit.json"


def _plain_name(name: object) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and os.path.basename(name) == name


def finish_interrupted_commit(folder: Path, locked: bool = False) -> List[str]:
    """Finish the renames of a commit whose run was killed halfway (its :data:`JOURNAL` is still
    in ``folder``): each temporary still there is renamed to its file, then the journal goes.
    With the folder ``locked`` by this run any journal is a dead run's; unlocked (no flock here),
    only one whose PID is gone. Returns the files renamed now. A journal that is not one (a
    foreign hand's) is removed and nothing moved; names are taken only as names in ``folder``."""
    journal = folder / JOURNAL
    try:
        content = json.loads(journal.read_text(encoding="utf-8"))
        pid, renames = content["pid"], content["renames"]
        if not (isinstance(pid, int) and isinstance(renames, list)):
            raise ValueError("not a journal")
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return []
    if not locked and pid != os.getpid() and _alive(pid):
        return []  # a live run is committing (folders without locks)
    finished = []
    for entry in renames:
        if not (isinstance(entry, list) and len(entry) == 2 and all(map(_plain_name, entry))
                and _TEMPORARY.match(entry[0])):
            continue
        temporary, final = entry
        if (folder / temporary).exists():
            os.replace(folder / temporary, folder / final)
            finished.append(final)
    journal.unlink(missing_ok=True)
    return finished


def lock_folder(folder: Path) -> Optional[int]:
    """Lock ``folder`` for this run (flock on the folder itself: no file left behind), or refuse
    when another run holds it. Returns the descriptor to close when done (None where flock is
    not available)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        return None
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise OutputFolderError(folder, "is being written by another imle-cli run",
                                "wait for it to end, or give another --out") from None
    except OSError:  # a file system without locks (some network mounts): write unlocked
        os.close(descriptor)
        return None
    return descriptor


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()

#: The errors of a full disk or quota.
_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


class Outputs:
    """Write figures into a folder all or nothing: temporaries first, renamed at :meth:`commit`.

    On an error or an interrupt, the temporaries are removed and the folder holds what it held
    before (a folder this run created is removed again if it stays empty). Stills are written
    in ``still_format`` (png, svg or pdf; matplotlib plots at ``dpi``); GIFs also as MP4 with
    ``video``.
    """

    def __init__(self, folder: Path, still_format: str = "png", dpi: float = 100.0, video: bool = False,
                 axes: Optional[bool] = None, max_gif_mb: float = 50.0):
        self.still_format, self.dpi, self.video, self.max_gif_mb = still_format, dpi, video, max_gif_mb
        self.axes_choice = axes
        self.folder = folder
        if folder.exists() and not folder.is_dir():
            raise OutputFolderError(folder, "is a file, not a folder", "give a folder path")
        # the folders this run creates (--out a/b/c may create a, a/b and a/b/c), innermost first
        self.created: List[Path] = []
        ancestor = Path(os.path.abspath(folder))
        while not ancestor.exists():
            self.created.append(ancestor)
            ancestor = ancestor.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".imle-probe-", delete=True)
            probe.close()
        except OSError as error:
            self._remove_created_folder()
            raise OutputFolderError(folder, f"is not writable ({error.strerror or error})", "choose another folder") from None
        self.pending: List[Tuple[Path, Path, WrittenFile]] = []
        try:
            self._lock = lock_folder(folder)  # another run writing here: refused, nothing touched
        except OutputFolderError:
            self._remove_created_folder()
            raise
        from imle_cli.reporting import signals_held

        with signals_held():  # a run killed while renaming its files into place: finish its set first
            self.finished_commit = finish_interrupted_commit(folder, locked=self._lock is not None)
        remove_stale_temporaries(folder, locked=self._lock is not None)

    @contextlib.contextmanager
    def _writing(self, name: str) -> Iterator[None]:
        """Writes to the file ``name``: a full disk's error names it (a failed write carries no file
        name, a failed open its hidden temporary's), for the message to say which file did not fit."""
        try:
            yield
        except OSError as error:
            if error.errno in _DISK_FULL:
                error.filename = str(self.folder / name)
            raise

    def _temporary(self, name: str, suffix: str = ".tmp") -> Path:
        # .NAME.PID.RANDOM.tmp: the pid tells a later run whether its writer is still alive
        with self._writing(name):
            handle, path = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.{os.getpid()}.", suffix=suffix)
        os.close(handle)
        os.chmod(path, 0o666 & ~_UMASK)  # mkstemp makes 0600; published files get the usual mode
        return Path(path)

    def png(self, name: str, frame: np.ndarray, palette: Optional[np.ndarray]) -> None:
        """A palette frame with its palette, or (palette None) an RGB image [height, width, 3]."""
        from PIL import Image

        path = self._temporary(name)
        self.pending.append((path, self.folder / name, WrittenFile(name, 1, frame.shape[1], frame.shape[0], 0)))
        image = Image.fromarray(np.ascontiguousarray(frame)) if palette is None else palette_image(frame, palette)
        with self._writing(name):
            image.save(path, format="PNG", optimize=False)

    def gif(self, name: str, frames: Iterable[np.ndarray], palette: np.ndarray, fps: float, count: int,
            hold: float = 0.0) -> None:
        """An animated GIF of ``count`` frames (and with --video its MP4), written frame by frame as
        the iterable draws them: memory holds one frame, whatever the count. The first frame is
        encoded before the others are drawn, to refuse a GIF above --max-gif-mb early. ``hold``:
        seconds the last frame stays (a learning run's end)."""
        path = self._temporary(name)
        info = WrittenFile(name, 0, 0, 0, 0)
        self.pending.append((path, self.folder / name, info))
        video = self._mp4_writer(name.rsplit(".", 1)[0] + ".mp4", fps) if self.video else None
        handle = None
        try:
            # only the writes are named: drawing a frame (and its progress bar on stdout) is not
            with self._writing(name):
                handle = open(path, "wb")
                stream = GifStream(handle, palette, fps, hold)
            frame = None
            for index, frame in enumerate(frames):
                with self._writing(name):
                    encoded = stream.add(frame)
                if index == 0:
                    self._check_gif_size(name, encoded, frame, count)
                    info.width, info.height = frame.shape[1], frame.shape[0]
                if video is not None:
                    video(frame, palette)
                info.frames += 1
            if video is not None and frame is not None:  # the hold, as repeated frames
                for _ in range(max(0, round(hold * fps) - 1)):
                    video(frame, palette)
            with self._writing(name):
                stream.close()
                handle.close()
        finally:
            if handle is not None and not handle.closed:
                with contextlib.suppress(OSError):  # a temporary the failure discards
                    handle.close()
            if video is not None:
                video(None, palette)

    def check_gif(self, name: str, first: np.ndarray, palette: np.ndarray, frames: int) -> None:
        """Refuse a GIF of ``frames`` frames like ``first`` above --max-gif-mb, before they are
        computed (the same estimate as :meth:`gif` makes from its first frame)."""
        import io

        self._check_gif_size(name, GifStream(io.BytesIO(), palette, 10).add(first), first, frames)

    def _check_gif_size(self, name: str, encoded: int, first: np.ndarray, frames: int) -> None:
        """Refuse a GIF whose estimated size (the first frame's encoded bytes times the frames: a
        run's frames are alike) is above ``max_gif_mb``."""
        megabytes = encoded * frames / 1e6
        if megabytes > self.max_gif_mb:
            raise GifTooLarge(name, megabytes, frames, first.shape[1], first.shape[0], self.max_gif_mb)

    def _mp4_writer(self, name: str, fps: float):
        """A function that appends a palette frame to an H.264 MP4 (imageio-ffmpeg), padded with
        white to even sizes; called with None, it closes the file."""
        import imageio.v2 as imageio

        path = self._temporary(name, ".tmp.mp4")  # ffmpeg picks the container from the ending
        info = WrittenFile(name, 0, 0, 0, 0)
        self.pending.append((path, self.folder / name, info))
        writer = imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                    pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
                                    output_params=["-movflags", "+faststart"])

        def append(frame, palette) -> None:
            if frame is None:
                with self._writing(name):
                    writer.close()
                return
            height, width = frame.shape
            page = np.zeros((height + height % 2, width + width % 2), dtype=np.uint8)  # index 0 is white
            page[:height, :width] = frame
            with self._writing(name):
                writer.append_data(palette[page])
            info.frames, info.width, info.height = info.frames + 1, page.shape[1], page.shape[0]
        return append

    def axes(self, shape: Tuple[int, int]) -> bool:
        """Whether map figures of this shape get cell indices (--axes; by default up to 64 cells a side)."""
        return self.axes_choice if self.axes_choice is not None else max(shape) <= 64

    def still(self, name: str, scenes: Sequence[Scene], columns: int = 1) -> None:
        """A still of one or more scenes (tiled row by row): a palette PNG drawn by the raster back
        end, or (``still_format``) an SVG or PDF of the same scenes drawn by the vector back end;
        ``name`` ends in .png and takes the format's suffix."""
        content, width, height = _still(scenes, columns, self.still_format, self.dpi)
        self.file(f"{name.rsplit('.', 1)[0]}.{self.still_format}", content, (width, height))

    def plot(self, name: str, figure) -> None:
        """A matplotlib figure as a still, in the still format, at the outputs' dpi."""
        name = f"{name.rsplit('.', 1)[0]}.{self.still_format}"
        path = self._temporary(name)
        width, height = figure.get_size_inches() * self.dpi
        self.pending.append((path, self.folder / name, WrittenFile(name, 1, int(width), int(height), 0)))
        with self._writing(name):
            vector.save(figure, path, self.still_format, self.dpi)

    def file(self, name: str, content: bytes, size: Tuple[int, int] = (0, 0), frames: int = 1) -> None:
        """A file of these bytes (``size``: its width and height in pixels, for the summary)."""
        path = self._temporary(name)
        self.pending.append((path, self.folder / name, WrittenFile(name, frames, size[0], size[1], 0)))
        with self._writing(name):
            path.write_bytes(content)

    def npy(self, name: str, array: np.ndarray) -> None:
        path = self._temporary(name)
        self.pending.append((path, self.folder / name, WrittenFile(name, 0, array.shape[-1], array.shape[0], 0)))
        with self._writing(name), open(path, "wb") as handle:
            np.save(handle, array, allow_pickle=False)

    def text(self, name: str, content: str) -> None:
        path = self._temporary(name)
        self.pending.append((path, self.folder / name, WrittenFile(name, 0, 0, 0, 0)))
        with self._writing(name):
            path.write_text(content, encoding="utf-8")

    def commit(self) -> List[WrittenFile]:
        """Rename every temporary to its file, with signals held (a SIGTERM waits until the last
        rename, and the run then says its files were written), under the :data:`JOURNAL` (a kill
        halfway: the next run into the folder finishes the renames)."""
        from imle_cli.reporting import note_written, signals_held

        written = []
        with signals_held():
            journal = self._temporary(JOURNAL)  # written whole, then renamed: never a partial journal
            try:
                with self._writing(JOURNAL):
                    journal.write_text(json.dumps({"pid": os.getpid(), "renames": [
                        [temporary.name, final.name] for temporary, final, _ in self.pending]}), encoding="utf-8")
                os.replace(journal, self.folder / JOURNAL)
            finally:
                journal.unlink(missing_ok=True)  # renamed: gone already; a full disk: removed
            for temporary, final, info in self.pending:
                info.bytes = temporary.stat().st_size
                os.replace(temporary, final)
                written.append(info)
                if _SLOW_COMMIT:  # a test hook: a slow file system's renames, to signal a commit halfway
                    time.sleep(_SLOW_COMMIT)
            (self.folder / JOURNAL).unlink()
            self.pending = []
            note_written(self.folder)
        return written

    def discard(self) -> None:
        """Remove the temporaries and the folders this run created, with signals held (a second
        Ctrl-C waits until the cleanup is done)."""
        from imle_cli.reporting import signals_held

        with signals_held():
            for temporary, _, _ in self.pending:
                temporary.unlink(missing_ok=True)
            self.pending = []
            self._remove_created_folder()

    def _remove_created_folder(self) -> None:
        """Remove the folders this run created, innermost first, while they are empty."""
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:  # not empty (someone else wrote there), or already gone
                break

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is not None:  # any failure, KeyboardInterrupt included
                self.discard()
        finally:
            if self._lock is not None:  # closing the descriptor releases the lock
                os.close(self._lock)
                self._lock = None

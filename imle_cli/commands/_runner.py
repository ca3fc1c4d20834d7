"""How a command runs: resolve its inputs once, run its parts into one output folder, commit the
files and print the summary. A part is an experiment (imle_cli.experiments) with the figures that
show it (imle_cli.figures); a command runs one part, ``all`` several.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Sequence, Tuple

from imle_cli.errors import UserError
from imle_cli.options import Settings
from imle_cli.reporting import Reporter


@dataclass(frozen=True)
class Job:
    """What the parts of one command run share: the open outputs and progress bars, the resolved
    inputs (map and gold paths), the reporter (for notices) and the animations' frame rate."""

    outputs: Any     # imle_cli.render.Outputs
    progress: Any    # the reporter's progress bars
    inputs: Any      # imle_cli.inputs.resolve.Inputs
    reporter: Reporter
    fps: float


#: What a part returns: (its title in index.html, one line of facts, the files it wrote as
#: (name, caption)).
Section = Tuple[str, str, List[Tuple[str, str]]]
#: A part: (job, its spec) -> Section.
Part = Callable[[Job, Any], Section]


def run_parts(s: Settings, parts: Sequence[Tuple[Part, Any]], *, needs_map: bool = True,
              needs_gold: bool = False, index: bool = False, map_image: bool = False) -> None:
    """Resolve the inputs, run each (part, its spec) into one output folder, write index.html if
    asked, commit the files and print the summary."""
    from imle_cli import figures, render
    from imle_cli.inputs.resolve import resolve

    reporter = Reporter(s.quiet)
    if s.video:
        check_video_support()
    inputs = resolve(map_path=s.map_path, map_spec=s.map_spec, gold=s.gold, gold_map=s.gold_map, invert=s.invert,
                     neighbourhood=s.neighbourhood, needs_map=needs_map, needs_gold=needs_gold, map_image=map_image)
    for text in inputs.notices:
        reporter.notice(text)
    try:
        with render.Outputs(s.out, s.still_format, s.dpi, s.video, s.axes, s.max_gif_mb) as outputs, \
                reporter.progress() as progress:
            if outputs.finished_commit:
                reporter.notice(f"a run killed while renaming its files into {s.out}/ left them half renamed: "
                                f"finished ({', '.join(outputs.finished_commit)})")
            job = Job(outputs=outputs, progress=progress, inputs=inputs, reporter=reporter, fps=s.fps)
            sections = [part(job, spec) for part, spec in parts]
            if index:
                figures.write_index(outputs, [(f"{title} ({facts})", files) for title, facts, files in sections],
                                    title=f"I-MLE on {inputs.map_name}")
            written = outputs.commit()
    except render.OutputFolderError as error:
        raise UserError(f"--out {str(error.folder)!r} {error.problem}; {error.advice}") from None
    except render.GifTooLarge as error:
        raise UserError(gif_too_large(error, s)) from None
    facts = "\n".join(facts for _, facts, _ in sections)
    reporter.summary(s.out, written, facts + (f"\nopen {s.out}/index.html" if index else ""))


def gif_too_large(error, s: Settings) -> str:
    """The one line for a GIF above --max-gif-mb, suggesting only the options this command takes."""
    # a learning GIF has a frame every --every steps; the others a frame per draw
    framing = (("every", "--every"), ("steps", "--steps")) if error.name.startswith("learning") else \
        (("samples", "--samples"),)
    fewer = [flag for name, flag in framing if name in s.given]
    ways = ([f"use fewer frames ({', '.join(fewer)})"] if fewer else []) + (["fewer cells (--grid)"]
                                                                              if "grid" in s.given else [])
    return (f"{error.name} would be about {error.megabytes:,.0f} MB ({error.frames} frames of {error.width}x"
            f"{error.height} pixels), above --max-gif-mb {error.limit:g}: {' or '.join(ways + ['raise --max-gif-mb'])}")


def check_video_support() -> None:
    """--video needs imageio-ffmpeg (the optional extra 'video'); say so before anything is drawn."""
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise UserError("--video needs imageio-ffmpeg, which is not installed: pip install 'imle[video]' "
                        "(or pip install imageio-ffmpeg)") from None

"""Rendering: one description of every frame, drawn by two back ends.

* :mod:`~imle_cli.render.layout` - a figure's geometry, computed once; each frame as a scene;
* :mod:`~imle_cli.render.scene` - the primitives a scene is made of, in page pixels;
* :mod:`~imle_cli.render.palette` - the one palette of every figure;
* :mod:`~imle_cli.render.raster` - scenes -> palette frames (PNG stills, GIF and MP4 frames);
* :mod:`~imle_cli.render.vector` - scenes -> SVG/PDF pages showing what the PNG shows;
* :mod:`~imle_cli.render.gif` - GIFs written frame by frame;
* :mod:`~imle_cli.render.outputs` - files written all or nothing.
"""
from imle_cli.render.layout import Figure
from imle_cli.render.outputs import GifTooLarge, OutputFolderError, Outputs, WrittenFile

__all__ = ["Figure", "Outputs", "WrittenFile", "GifTooLarge", "OutputFolderError"]

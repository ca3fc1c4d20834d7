"""GIF animations written frame by frame: memory holds one frame, whatever the count.

Example:
    >>> import io
    >>> import numpy as np
    >>> handle, palette = io.BytesIO(), np.zeros((256, 3), dtype=np.uint8)
    >>> stream = GifStream(handle, palette, fps=10)
    >>> sizes = [stream.add(np.full((4, 6), i, dtype=np.uint8)) for i in range(3)]
    >>> stream.close()
    >>> handle.getvalue()[:6], handle.getvalue()[-1:]
    (b'GIF89a', b';')
"""
from __future__ import annotations

import numpy as np


class GifStream:
    """An animated GIF (GIF89a, looping) written frame by frame into an open binary file.

    Each palette frame is LZW-encoded by Pillow as a GIF of its own; its image block (descriptor
    and data) is copied here behind a graphic control extension (the frame's delay), with the
    palette as the frame's local colour table. Pillow's own animated writer keeps every frame
    until the end; this keeps none.
    """

    def __init__(self, handle, palette: np.ndarray, fps: float, hold: float = 0.0):
        self.handle, self.started = handle, False
        self.palette = np.asarray(palette, dtype=np.uint8).ravel().tolist()
        self.delay = max(2, round(100 / fps))  # hundredths of a second, as the GIF stores them
        # the last frame shows ``hold`` seconds (at least a frame's time): each frame is written
        # when the next comes, or at close, the last one with its own delay
        self.last_delay = max(self.delay, round(100 * hold))
        self._pending: bytes = b""

    def add(self, frame: np.ndarray) -> int:
        """Append a frame (palette indices [height, width]); returns its encoded size in bytes."""
        import io
        import struct

        from PIL import Image

        height, width = frame.shape
        if not self.started:
            self.handle.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
                              + b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")  # no global table; loop
            self.started = True
        image = Image.frombytes("P", (width, height), np.ascontiguousarray(frame).tobytes())
        image.putpalette(self.palette)
        buffer = io.BytesIO()
        image.save(buffer, format="GIF", optimize=False)
        block = self._image_block(buffer.getvalue())
        self._flush(self.delay)
        self._pending = block
        return len(block) + 8

    def _flush(self, delay: int) -> None:
        import struct

        if self._pending:
            self.handle.write(b"\x21\xf9\x04\x00" + struct.pack("<H", delay) + b"\x00\x00" + self._pending)
            self._pending = b""

    @staticmethod
    def _image_block(gif: bytes) -> bytes:
        """The image descriptor and data of a one-frame GIF, its global colour table made local."""
        flags = gif[10]
        table_size = 3 << ((flags & 7) + 1) if flags & 0x80 else 0
        table = gif[13:13 + table_size]
        position = 13 + table_size
        while gif[position] == 0x21:  # skip extensions: label, then sub-blocks up to a zero length
            position += 2
            while gif[position]:
                position += gif[position] + 1
            position += 1
        descriptor = bytearray(gif[position:position + 10])  # 0x2C, left, top, width, height, flags
        if table and not descriptor[9] & 0x80:
            descriptor[9] = (descriptor[9] & 0x40) | 0x80 | (flags & 7)  # local table of the same size
            return bytes(descriptor) + table + gif[position + 10:-1]  # all but the trailer
        return gif[position:-1]

    def close(self) -> None:
        self._flush(self.last_delay)
        self.handle.write(b"\x3b")  # trailer

"""Streams: live and recorded multi-channel signals behind one get/put interface.

`stream.get(n)` returns the next n samples as a (n, channels) float64 array and
advances the stream's clock; writable streams take samples with `put(x)`;
`for chunk in stream.chunks(n)` reads everything in time order. See
docs/streams.md.

Names are loaded from their modules on first use (PEP 562), so importing one
module (say `backend.streams.device` for the live session) does not load h5py
or scipy with all the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend.lazy import lazy_exports

_HOMES = {
    "Stream": "base",
    "StreamError": "base",
    "rate_of": "base",
    "DeviceStream": "device",
    "live_listener": "device",
    "FileStream": "files",
    "IodatStream": "files",
    "NpyStream": "files",
    "NpzStream": "files",
    "RawStream": "files",
    "RecordingStream": "files",
    "open_stream": "files",
    "H5StreamWriter": "h5stream",
    "HDF5Stream": "files",
    "LFilter": "processing",
    "ProcessingStream": "processing",
    "SosFilter": "processing",
    "ResampleStream": "resample",
    "run_stream": "run",
    "RandomStream": "sources",
    "SequenceStream": "sources",
}

__all__ = [
    "DeviceStream",
    "FileStream",
    "H5StreamWriter",
    "HDF5Stream",
    "IodatStream",
    "LFilter",
    "NpyStream",
    "NpzStream",
    "ProcessingStream",
    "RandomStream",
    "RawStream",
    "RecordingStream",
    "ResampleStream",
    "SequenceStream",
    "SosFilter",
    "Stream",
    "StreamError",
    "live_listener",
    "open_stream",
    "rate_of",
    "run_stream",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())


if TYPE_CHECKING:
    from backend.streams.base import Stream, StreamError, rate_of
    from backend.streams.device import DeviceStream, live_listener
    from backend.streams.files import (
        FileStream,
        HDF5Stream,
        IodatStream,
        NpyStream,
        NpzStream,
        RawStream,
        RecordingStream,
        open_stream,
    )
    from backend.streams.h5stream import H5StreamWriter
    from backend.streams.processing import LFilter, ProcessingStream, SosFilter
    from backend.streams.resample import ResampleStream
    from backend.streams.run import run_stream
    from backend.streams.sources import RandomStream, SequenceStream

"""Streams: live and recorded multi-channel signals behind one get/put interface.

`stream.get(n)` returns the next n samples as a (n, channels) float64 array and
advances the stream's clock; writable streams take samples with `put(x)`;
`for chunk in stream.chunks(n)` reads everything in time order. See
docs/streams.md.
"""

from backend.streams.base import Stream, StreamError, rate_of
from backend.streams.device import DeviceStream, live_listener
from backend.streams.files import (
    FileStream,
    IodatStream,
    NpyStream,
    NpzStream,
    RawStream,
    RecordingStream,
    open_stream,
)
from backend.streams.h5stream import H5StreamWriter, HDF5Stream
from backend.streams.processing import LFilter, ProcessingStream, SosFilter
from backend.streams.resample import ResampleStream
from backend.streams.run import run_stream
from backend.streams.sources import RandomStream, SequenceStream

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

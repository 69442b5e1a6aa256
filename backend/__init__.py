"""samplelab's computation: config, waves, devices, sessions, recordings, data.

Usable from a notebook; imports no Qt.
"""

__version__ = "0.1.0"

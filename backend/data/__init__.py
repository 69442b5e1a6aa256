"""The data layer: the Reader base, file kinds and their formats, sources (recordings,
merges), memory-bounded chunked processing."""

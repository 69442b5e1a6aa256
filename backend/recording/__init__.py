"""The HDF5 recording format: written while sampling, read while writing; its run
notes and flag helpers."""

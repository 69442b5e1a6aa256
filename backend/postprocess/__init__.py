"""Postprocessing: clipping and electrode info, the passes, the results file, previews,
many files at once."""

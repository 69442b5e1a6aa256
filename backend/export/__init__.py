"""Exporting recordings to other file kinds (IO.dat, npz, CSV, figures...)."""

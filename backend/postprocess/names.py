"""The files a postprocessing run writes into its folder, by name.

Apart from the code that writes them, so that naming them (the Postprocess
page's export buttons, before anything ran) loads neither h5py nor the passes.
"""

from __future__ import annotations

#: Everything computed, as HDF5 (backend.postprocess.results).
RESULTS_NAME = "postprocessed_data.h5"
#: The raw tails kept beside the kept rows, each also as its own npz.
TAILS = ("charging_signal", "reference_batch")
DATA_NAME = "postprocessed_data.npz"
FIGURE_NAME = "output_distribution.png"
NPZ_NAMES = {"postprocessed_data": DATA_NAME, **{t: f"{t}.npz" for t in TAILS}}
OUTPUT_NAMES = (RESULTS_NAME, FIGURE_NAME, *NPZ_NAMES.values())

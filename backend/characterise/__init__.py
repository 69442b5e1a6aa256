"""Device preparation and maintenance: I-V curves, consistency checks, the live device panel.

Every job drives a `backend.devices.Device` (simulated or NI) through the sampling
safety check, ramps and 0 V rules (the live panel through a held session:
levels kept between frames, moved at a bounded slew rate), follows the job
contract (`progress=`, `cancel=`) and leaves the device at 0 V and closed
however it ends.

- `ivconfig`: configs for I-V curves (ours, bspysmg sampling configs, the peer's I-V
  configs) and the sweep settings; `sweeps`: the sweep waveforms;
- `iv`: `measure_iv`; `ivfiles`: iv_curves.npz / .h5 / .png;
- `consistency`: `load_stored_signals`, `check_consistency`, the verdict;
  `checkfiles`: consistency_results.npz, the verdict file and plots;
- `panel`: `DevicePanel`, live levels per electrode, Record; `panelwave`: what it sends;
- `device`: building the device and leaving it at 0 V; `readers`: data-layer tables.
"""

"""The NI devices of the fake lab, and the habits of real ones the fake reproduces.

- Sample clocks are derived from a timebase by an integer divisor, so a rate the
  divisor cannot make is coerced to the nearest one it can (80 MHz on a cDAQ
  chassis, 100 MHz on an X Series card); delta-sigma modules offer a short list
  of rates and coerce up to the next one. The coerced rate is what the task
  reports once verified.
- Each device has terminals; a start-trigger route is resolved when the task is
  committed or started, not when it is configured.
- Each clock runs off by some ppm, and each channel has a small voltage offset
  (set on the FakeDAQ).
- AO channels keep their last value when no generation runs, unless their idle
  output behaviour is 0 V (`ao_idle`; `fakes.ni_outputs`).
"""

from __future__ import annotations

from dataclasses import dataclass

from nidaqmx.constants import AOIdleOutputBehavior, ProductCategory
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqError, DaqReadError, DaqWriteError


@dataclass
class FakeDevice:
    name: str
    product_type: str
    category: ProductCategory
    ao: int = 0
    ai: int = 0
    ao_ranges: tuple[float, ...] = ()
    ai_ranges: tuple[float, ...] = ()
    chassis: str = ""
    slot: int = 0
    modules: tuple[str, ...] = ()
    serial: int = 0x1A2B3C
    simulated: bool = True
    ao_max_rate: float = 0.0
    ai_max_rate: float = 0.0
    timebase_hz: float = 80e6  # sample clock = timebase / integer divisor
    rates: tuple[float, ...] = ()  # or only these (delta-sigma), coerced up
    terminals: tuple[str, ...] = ()
    #: AO channels when no generation runs: this behaviour unless a task sets another;
    #: None: no such setting (refused), the last value is kept.
    ao_idle: int | None = AOIdleOutputBehavior.MAINTAIN_EXISTING_VALUE.value

    def channels(self, kind: str) -> list[str]:
        return [f"{self.name}/{kind}{i}" for i in range(getattr(self, kind))]

    def coerced(self, rate: float) -> float:
        """The sample clock rate this device really runs when asked for `rate` (Hz)."""
        if self.rates:
            above = [r for r in self.rates if r >= rate * (1 - 1e-12)]
            return min(above) if above else max(self.rates)
        return self.timebase_hz / max(1, round(self.timebase_hz / rate))


def chassis_terminals(name: str) -> tuple[str, ...]:
    """A cDAQ chassis' timing terminals; brains-py's documented `cDAQ1/segment1` spelling
    of the AI start trigger is answered too."""
    signals = ("ai/StartTrigger", "ai/ReferenceTrigger", "ai/SampleClock", "ao/StartTrigger")
    own = tuple(f"/{name}/{s}" for s in signals)
    return (*own, f"/{name}/segment1/ai/StartTrigger")


def lab_devices() -> list[FakeDevice]:
    """A cDAQ-9178 with two NI 9264 AO and two NI 9205 AI modules, and a PCIe-6363."""
    ao = {"ao": 16, "ao_ranges": (-10.0, 10.0), "ao_max_rate": 25000.0}
    ai = {"ai": 32, "ai_ranges": (-10.0, 10.0, -5.0, 5.0, -1.0, 1.0, -0.2, 0.2)}
    module = ProductCategory.C_SERIES_MODULE
    return [
        FakeDevice(
            "cDAQ1",
            "cDAQ-9178",
            ProductCategory.COMPACT_DAQ_CHASSIS,
            modules=("cDAQ1Mod1", "cDAQ1Mod2", "cDAQ1Mod3", "cDAQ1Mod4"),
            terminals=chassis_terminals("cDAQ1"),
        ),
        FakeDevice("cDAQ1Mod1", "NI 9264", module, chassis="cDAQ1", slot=1, **ao),
        FakeDevice("cDAQ1Mod2", "NI 9205", module, chassis="cDAQ1", slot=2, **ai),
        FakeDevice("cDAQ1Mod3", "NI 9264", module, chassis="cDAQ1", slot=3, **ao),
        FakeDevice("cDAQ1Mod4", "NI 9205", module, chassis="cDAQ1", slot=4, **ai),
        FakeDevice(
            "Dev1",
            "PCIe-6363",
            ProductCategory.X_SERIES_DAQ,
            ao=4,
            ai=32,
            ao_ranges=(-10.0, 10.0, -5.0, 5.0),
            ai_ranges=(-10.0, 10.0, -5.0, 5.0, -2.0, 2.0, -1.0, 1.0),
            ai_max_rate=2e6,
            simulated=False,
            timebase_hz=100e6,
            terminals=("/Dev1/ai/StartTrigger", "/Dev1/ao/StartTrigger", "/Dev1/PFI0"),
        ),
    ]


def delta_sigma_module(name: str = "cDAQ1Mod5", slot: int = 5) -> FakeDevice:
    """An NI 9239-like module: 4 AI at 51.2 kS/s / n (n = 1..31), coerced up."""
    return FakeDevice(
        name,
        "NI 9239",
        ProductCategory.C_SERIES_MODULE,
        ai=4,
        ai_ranges=(-10.0, 10.0),
        chassis="cDAQ1",
        slot=slot,
        rates=tuple(51200.0 / n for n in range(1, 32)),
    )


def daq_error(code: DAQmxErrors, message: str = "", cls: type[DaqError] = DaqError) -> DaqError:
    text = message or code.name.replace("_", " ").capitalize() + "."
    if cls is DaqReadError:
        return DaqReadError(text, code, 0)
    if cls is DaqWriteError:
        return DaqWriteError(text, code, 0)
    return DaqError(text, code)

"""Stand-ins for hardware the tests cannot have: a scripted NI-DAQmx driver and its lab.

`fakes.ni_daq.FakeDAQ` sits behind nidaqmx's real Task code as an autospecced
interpreter; `fakes.ni_hardware` describes the NI devices it offers and how
real ones behave (coerced sample clocks, terminals, clock error);
`fakes.ni_signals` computes what the AI channels read; `fakes.ni_outputs` what
the AO channels put out over time (a scope) and do when idle; `fakes.ni_lab`
wires a DNPU and the sync cable to it for the device tests.
"""

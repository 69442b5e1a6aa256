"""Sampling configuration: typed model, validation, safe loading, bspysmg output."""

from backend.config.files import (
    BSPYSMG_CONFIG_NAME,
    bspysmg_config_dict,
    config_problems,
    config_to_bspysmg_yaml,
    config_to_yaml,
    load_config,
    parse_config,
    read_config_dict,
    save_config,
)
from backend.config.limits import ADC_LIMIT_V, GLOBAL_VOLTAGE_LIMIT, saturation_current
from backend.config.schema import (
    DeviceBlock,
    Driver,
    InputData,
    InstrumentsSetup,
    SamplingConfig,
)
from backend.config.wiring import ElectrodeLayout

__all__ = [
    "ADC_LIMIT_V",
    "BSPYSMG_CONFIG_NAME",
    "GLOBAL_VOLTAGE_LIMIT",
    "DeviceBlock",
    "Driver",
    "ElectrodeLayout",
    "InputData",
    "InstrumentsSetup",
    "SamplingConfig",
    "bspysmg_config_dict",
    "config_problems",
    "config_to_bspysmg_yaml",
    "config_to_yaml",
    "load_config",
    "parse_config",
    "read_config_dict",
    "saturation_current",
    "save_config",
]

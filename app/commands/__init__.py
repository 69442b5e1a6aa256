"""One module per `samplelab` subcommand; each has `register(subparsers)`.

A command module imports its backend pieces inside `run`, so `samplelab --help`
stays fast and no command pulls in Qt.
"""

from app.commands import (
    consistency,
    dataset,
    devices,
    evaluate,
    export,
    info,
    iv,
    postprocess,
    presets,
    sample,
    selftest,
    train,
)

#: In the order `samplelab --help` lists them.
COMMANDS = [sample, presets, info, postprocess, export, dataset, devices, selftest]
COMMANDS += [iv, consistency]  # device preparation and maintenance
COMMANDS += [train, evaluate]  # surrogate models

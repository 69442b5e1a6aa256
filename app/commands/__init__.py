"""One module per `samplelab` subcommand; each has `register(subparsers)`.

A command module imports its backend pieces inside `run`, so `samplelab --help`
stays fast and no command pulls in Qt.
"""

from app.commands import dataset, devices, evaluate, export, info, postprocess, sample, train

#: In the order `samplelab --help` lists them.
COMMANDS = [sample, info, postprocess, export, dataset, devices, train, evaluate]

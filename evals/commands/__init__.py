"""One module per `probity` subcommand, each with `add_parser(subparsers)` that sets `func`."""

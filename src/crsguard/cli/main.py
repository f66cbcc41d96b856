"""The `crsguard` command. Each concern registers its commands from its own module."""

import typer

from crsguard.cli import grade, management, risk, simulate

app = typer.Typer(
    name="crsguard",
    help="Grade, monitor and manage cytokine release syndrome and related IEC toxicities (decision support).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
grade.register(app)
risk.register(app)
management.register(app)
simulate.register(app)

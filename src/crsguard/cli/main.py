"""The `crsguard` command. Each concern registers its commands from its own module."""

import typer

from crsguard import __version__
from crsguard.cli import grade, management, risk, simulate, timeline

app = typer.Typer(
    name="crsguard",
    help="Grade, monitor and manage cytokine release syndrome and related IEC toxicities (decision support).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crsguard {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Decision support: crsguard explains and recommends; it never orders."""


grade.register(app)
risk.register(app)
management.register(app)
simulate.register(app)
timeline.register(app)

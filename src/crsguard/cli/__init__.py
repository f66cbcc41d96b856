"""Command-line interface: Typer commands that call the packages; no logic of their own."""

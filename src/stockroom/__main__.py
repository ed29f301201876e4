"""``python -m stockroom``: the same as the ``stockroom`` command."""

from stockroom.cli.main import app

app(prog_name="stockroom")

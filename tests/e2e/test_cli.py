"""The ``stockroom`` command, run in-process against a real database."""

import re

from typer.testing import CliRunner

from stockroom.cli.main import app

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def run(*args, database):
    result = CliRunner().invoke(app, [*args, "--store", "cli-store", "--database", database])
    return result.exit_code, result.output


def test_an_operator_creates_renames_and_archives_a_location(tmp_path):
    database = f"sqlite:///{tmp_path / 'cli.db'}"

    created, output = run("locations", "create", "Berlin", database=database)
    (location_id,) = GUID.findall(output)
    renamed, _ = run("locations", "rename", location_id, "Berlin Mitte", database=database)
    archived, _ = run("locations", "archive", location_id, database=database)
    listed, listing = run("locations", "list", database=database)

    assert (created, renamed, archived, listed) == (0, 0, 0, 0)
    assert "Berlin Mitte" in listing
    assert "Default location" in listing
    assert len(GUID.findall(listing)) == 2


def test_archiving_the_default_location_fails_with_its_code(tmp_path):
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    _, listing = run("locations", "list", database=database)
    (default_id,) = GUID.findall(listing)

    code, output = run("locations", "archive", default_id, database=database)

    assert code == 1
    assert "DEFAULT_LOCATION_CANNOT_BE_ARCHIVED" in output

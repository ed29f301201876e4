"""``stockroom webhooks`` and ``stockroom relay``, run against a real database."""

import re
import subprocess
import sys

from typer.testing import CliRunner

from stockroom.cli.main import app
from stockroom.domain.changes import ItemDraft
from stockroom.service import items
from stockroom.service.context import Inventory, now_ms
from stockroom.storage import open_storage
from tests.factories import guid
from tests.receiver import Receiver

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STORE = "cli-store"


def run(*args, database):
    result = CliRunner().invoke(app, ["webhooks", *args, "--store", STORE, "--database", database])
    return result.exit_code, result.output


def sell_something(database):
    storage = open_storage(database, now_ms=now_ms)
    inventory = Inventory(storage=storage)
    items.create_item(inventory, store_id=STORE, draft=ItemDraft("p", guid(), quantity=1))
    storage.close()


def test_an_operator_manages_a_webhook_and_reads_its_log(tmp_path):
    database = f"sqlite:///{tmp_path / 'cli.db'}"

    created, output = run("create", "https://erp.example.com/hooks", database=database)
    (webhook_id,) = GUID.findall(output)
    secret = output.split()[-1]
    sell_something(database)
    listed, listing = run("list", database=database)
    logged, log = run("deliveries", webhook_id, "--state", "PENDING", database=database)
    updated, changed = run("update", webhook_id, "--inactive", "--rotate-secret", database=database)
    deleted, _ = run("delete", webhook_id, database=database)
    gone, missing = run("get", webhook_id, database=database)

    assert (created, listed, logged, updated, deleted) == (0, 0, 0, 0, 0)
    assert secret.startswith("whsec_")
    assert "active" in listing
    assert secret not in listing
    assert "1\tPENDING\t0 attempts\tcreated" in log
    assert "inactive" in changed
    assert changed.split()[-1] not in (secret, "")
    assert gone == 1
    assert "NOT_FOUND" in missing


def test_a_bad_url_is_refused_with_the_reason(tmp_path):
    code, output = run("create", "not-a-url", database=f"sqlite:///{tmp_path / 'cli.db'}")

    assert code == 1
    assert "url" in output


def test_stockroom_relay_once_sends_what_is_due_and_exits(tmp_path):
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    with Receiver() as receiver:
        run("create", receiver.url, database=database)
        sell_something(database)

        done = subprocess.run(
            [sys.executable, "-m", "stockroom", "relay", "--once", "--database", database],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        got = receiver.acknowledged()
    assert done.returncode == 0, done.stderr
    assert "sent 1 deliveries" in done.stderr
    assert [r.event["slug"] for r in got] == ["created"]
    _, log = run(
        "deliveries", GUID.findall(run("list", database=database)[1])[0], database=database
    )
    assert "DELIVERED" in log

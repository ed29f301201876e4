"""Background jobs: a job survives the death of its runner without touching an item twice."""

from dataclasses import replace

from sqlalchemy import true

from stockroom.domain.jobs import Job, JobKind, JobStatus
from stockroom.service.jobs import JobRunner, get_job, list_job_items, submit_job
from tests.factories import a_flag_item, an_item

STORE = "jobs-store"


def stock(storage, items):
    with storage.writing(STORE) as tx:
        location = tx.default_location_id()
        stored = [replace(item, location_id=location) for item in items]
        for item in stored:
            tx.insert_item(item)
    return stored


def items_by_id(storage):
    with storage.reading(STORE) as tx:
        return {item.id: item for item in tx.iter_items()}


def submit_update(inventory, raw_filter):
    return submit_job(
        inventory,
        store_id=STORE,
        kind=JobKind.UPDATE_BY_FILTER,
        raw_filter=raw_filter,
        raw_search=None,
        action={"preorderInfo": {"message": "ships soon"}},
    )


def test_submitting_fixes_the_set_of_items_the_job_will_touch(inventory):
    stock(inventory.storage, [an_item(product_id="p") for _ in range(3)])

    job = submit_update(inventory, {"productId": "p"})
    stock(inventory.storage, [an_item(product_id="p")])  # arrives after submission
    JobRunner(inventory).run_once()

    done = get_job(inventory, store_id=STORE, job_id=job.id)
    assert (done.status, done.items_to_process, done.items_succeeded) == (JobStatus.FINISHED, 3, 3)
    messages = [item.preorder.message for item in items_by_id(inventory.storage).values()]
    assert sorted(messages, key=str) == [None, "ships soon", "ships soon", "ships soon"]


def test_a_job_whose_runner_died_is_resumed_after_its_lease_and_no_item_changes_twice(
    inventory, clock
):
    stock(inventory.storage, [an_item(product_id="p") for _ in range(25)])
    job = submit_update(inventory, {"productId": "p"})
    dead = JobRunner(inventory, batch=10, lease_ms=1_000)
    assert inventory.storage.claim_job(owner=dead.owner, lease_ms=1_000) == (STORE, job.id)
    assert dead._run_batch(STORE, job.id)  # one batch committed, then the runner "dies"
    survivor = JobRunner(inventory, batch=10, lease_ms=1_000)

    held = survivor.run_once()
    clock.advance(1_001)
    resumed = survivor.run_once()

    assert (held, resumed) == (False, True)
    done = get_job(inventory, store_id=STORE, job_id=job.id)
    assert (done.status, done.items_succeeded, done.items_failed) == (JobStatus.FINISHED, 25, 0)
    assert {item.revision for item in items_by_id(inventory.storage).values()} == {2}


def test_per_item_failures_are_counted_and_listed(inventory):
    counted, flagged = stock(inventory.storage, [an_item(quantity=5), a_flag_item()])
    job = submit_job(
        inventory,
        store_id=STORE,
        kind=JobKind.ADJUST_BY_FILTER,
        raw_filter={},
        raw_search=None,
        action={"by": -7, "trackUntracked": False},
    )

    JobRunner(inventory).run_once()

    done = get_job(inventory, store_id=STORE, job_id=job.id)
    assert (done.items_succeeded, done.items_failed) == (1, 1)
    listed = list_job_items(inventory, store_id=STORE, job_id=job.id, after=None, limit=10)
    outcomes = {item_id: (ok, error and error["code"]) for item_id, ok, error in listed}
    assert outcomes == {
        counted.id: (True, None),
        flagged.id: (False, "INVENTORY_QUANTITY_NOT_TRACKED"),
    }
    assert items_by_id(inventory.storage)[counted.id].quantity == 0  # a decrement stops at zero


def test_a_job_that_breaks_unexpectedly_is_failed_with_the_counts_it_committed(inventory, clock):
    stock(inventory.storage, [an_item() for _ in range(3)])
    broken = Job(
        id="6f1c9a8e-2b7d-4c0e-9a55-0d2a9f1e3b4c",
        kind=JobKind.ADJUST_BY_FILTER,
        status=JobStatus.INITIALIZED,
        request={"filter": {}, "search": None, "action": {}},  # no "by": a corrupt record
        items_to_process=0,
        items_succeeded=0,
        items_failed=0,
        created_ms=clock(),
        updated_ms=clock(),
    )
    with inventory.storage.writing(STORE) as tx:
        tx.jobs.insert(broken)
        tx.jobs.snapshot_items(broken.id, true())
    before = items_by_id(inventory.storage)

    JobRunner(inventory).run_once()

    failed = get_job(inventory, store_id=STORE, job_id=broken.id)
    assert (failed.status, failed.items_succeeded, failed.items_failed) == (JobStatus.FAILED, 0, 0)
    assert items_by_id(inventory.storage) == before

"""Writers take turns in the order they arrive; the holder may take its turn again; a
writer that waits too long gives up without holding anything up. Between processes, the
lock file lets one writer in at a time."""

import threading
import time

from stockroom.storage.turns import ProcessTurns, Turns


def test_waiting_threads_get_their_turns_in_arrival_order():
    turns, order = Turns(), []
    holding, arrived = threading.Event(), threading.Semaphore(0)

    def writer(name: int) -> None:
        arrived.release()
        with turns.turn(timeout_s=10) as got:
            assert got
            order.append(name)

    with turns.turn(timeout_s=1):
        holding.set()
        threads = []
        for name in range(8):  # each arrives once the one before is queued
            thread = threading.Thread(target=writer, args=(name,))
            thread.start()
            arrived.acquire()
            time.sleep(0.02)
            threads.append(thread)
    for thread in threads:
        thread.join(10)

    assert order == list(range(8))


def test_the_holder_may_take_its_turn_again():
    turns = Turns()

    with turns.turn(timeout_s=1) as outer, turns.turn(timeout_s=1) as inner:
        assert (outer, inner) == (True, True)
    with turns.turn(timeout_s=0.01) as after:
        assert after


def test_a_writer_that_gives_up_leaves_the_line_and_the_next_one_still_gets_its_turn():
    turns, results = Turns(), {}
    release = threading.Event()

    def holder() -> None:
        with turns.turn(timeout_s=1):
            release.wait(10)

    def waiter(name: str, timeout_s: float) -> None:
        with turns.turn(timeout_s=timeout_s) as got:
            results[name] = got

    first = threading.Thread(target=holder)
    first.start()
    time.sleep(0.02)
    impatient = threading.Thread(target=waiter, args=("impatient", 0.05))
    patient = threading.Thread(target=waiter, args=("patient", 10))
    impatient.start()
    time.sleep(0.01)
    patient.start()
    impatient.join(10)
    release.set()
    for thread in (first, patient):
        thread.join(10)

    assert results == {"impatient": False, "patient": True}


def test_many_threads_never_hold_a_turn_at_once():
    turns, inside, overlaps = Turns(), [0], []
    guard = threading.Lock()

    def writer() -> None:
        for _ in range(200):
            with turns.turn(timeout_s=10):
                with guard:
                    inside[0] += 1
                    if inside[0] > 1:
                        overlaps.append(inside[0])
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert overlaps == []


def test_process_turns_on_one_file_exclude_each_other(tmp_path):
    """Two holders of the lock file stand for two processes: each opened it on its own."""
    first, second = ProcessTurns(str(tmp_path / "lock")), ProcessTurns(str(tmp_path / "lock"))
    entered, released_at = threading.Event(), []

    def other_process() -> None:
        with second.turn():
            entered.set()
            released_at.append(time.monotonic())

    with first.turn():
        with first.turn():  # a nested write of the same thread holds it still
            pass
        waiter = threading.Thread(target=other_process)
        waiter.start()
        assert not entered.wait(0.2)
        let_go = time.monotonic()
    waiter.join(timeout=5)
    assert entered.is_set()
    assert released_at[0] >= let_go
    first.close()
    second.close()


def test_process_turns_without_a_writable_folder_fall_back_to_no_lock(tmp_path):
    turns = ProcessTurns(str(tmp_path / "missing-folder" / "lock"))
    with turns.turn(), turns.turn():
        pass
    turns.close()


def test_a_turn_taken_now_comes_only_when_it_is_free_or_already_ours():
    turns = Turns()
    holding, done = threading.Event(), threading.Event()

    def holder() -> None:
        with turns.turn(timeout_s=1):
            holding.set()
            done.wait(10)

    with turns.turn_now() as free:
        assert free
        with turns.turn_now() as again:  # the holder's nested write
            assert again
    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(10)
    started = time.monotonic()
    with turns.turn_now() as taken:
        assert not taken
    assert time.monotonic() - started < 0.5  # refused at once, not after a wait
    done.set()
    thread.join(10)
    with turns.turn(timeout_s=0.01) as after:  # a refusal holds nothing
        assert after


def test_a_process_turn_taken_now_is_refused_while_another_process_holds_it(tmp_path):
    first, second = ProcessTurns(str(tmp_path / "lock")), ProcessTurns(str(tmp_path / "lock"))

    with first.turn_now() as free:
        assert free
        with first.turn_now() as again:
            assert again
        with second.turn_now() as taken:
            assert not taken
    with second.turn_now() as free_again:
        assert free_again
        with first.turn_now() as taken:
            assert not taken
    first.close()
    second.close()

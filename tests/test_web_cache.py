"""The server's result cache: one computation per key and version, and (as `fourhour serve`
runs it) what it holds kept out of Python's full garbage collections."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Iterator

import pytest

from fourhour.web.db import ResultCache


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # leave the test process as it was


def test_a_key_is_computed_once_even_when_asked_for_at_once() -> None:
    cache = ResultCache(8)
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get((1,), "k", slow)))
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 5 and len(calls) == 1
    assert cache.get((2,), "k", lambda: 7) == 7  # a new data version computes again


def test_least_recently_used_entries_go_first() -> None:
    cache = ResultCache(2)
    for key in "abc":
        cache.get((1,), key, lambda k=key: k)
    assert cache.peek((1,), "a") is None
    assert cache.peek((1,), "b") == "b" and cache.peek((1,), "c") == "c"


def test_without_freeze_nothing_is_frozen(unfrozen: None) -> None:
    ResultCache(4).get((1,), "k", lambda: [Node() for _ in range(10)])
    assert gc.get_freeze_count() == 0


def test_stored_results_are_frozen_and_freed_when_the_data_changes(unfrozen: None) -> None:
    cache = ResultCache(4, freeze=True)
    held = Node()
    gone = weakref.ref(held)
    value = cache.get((1,), "k", lambda: [Node() for _ in range(100)])
    assert gc.get_freeze_count() >= 100  # the stored value (and all else alive) is frozen
    assert not gc.is_finalized(value[0]) and value[0].me is value[0]
    del held  # now garbage, but frozen: a full collection does not free it
    gc.collect()
    assert gone() is not None
    cache.get((2,), "k", lambda: "new")  # the data changed: unfrozen, collected once
    assert gone() is None
    assert cache.peek((2,), "k") == "new"

"""Indexes that keep plan validation linear in the size of the plan (and of the inventory).

Validation once took 20 seconds for an 800-wave plan whose waves named unknown groups: every unknown name
ran ``difflib`` against every known name, every forward dependency searched the whole dependency graph
for a cycle, and every tag group scanned the whole inventory, twice. Each helper here does that work once
or within a fixed budget (tests/benchmarks/bench_plan_validation.py measures it):

- ``Suggester``: "did you mean" for unknown names: a case- and separator-insensitive match for every name,
  and for the first few a fuzzy search: the known names sharing the most letter pairs, then ``difflib``
  on those alone;
- ``strongly_connected``: the dependency graph's cycles, found once (Tarjan), so that a forward
  dependency asks "same component?" instead of searching the graph;
- ``TagIndex``: the inventory's servers by tag, so a tag selector costs what it matches.

Pure: no I/O.
"""

from __future__ import annotations

import difflib
import heapq
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence

from drs_desktop.domain.inventory import Inventory

__all__ = ["Suggester", "TagIndex", "cycle_path", "shorten_chain", "strongly_connected"]

#: Unknown names per validation that get a fuzzy search (each costs one pass over the letter-pair index).
MAX_FUZZY_SEARCHES = 20
#: Known names, those sharing the most letter pairs with the unknown one, that difflib compares.
MAX_RATIO_CANDIDATES = 20
#: Forward dependencies per validation whose cycle is spelled out wave by wave.
MAX_CYCLE_PATHS = 10
#: Longest cycle shown whole; longer ones show their ends and a count.
MAX_CHAIN_SHOWN = 8

_SEPARATORS = re.compile(r"[\s_\-.]+")


def _fold(name: str) -> str:
    return _SEPARATORS.sub("", name.casefold())


def _pairs(name: str) -> set[str]:
    text = f" {name.casefold()} "
    return {text[i : i + 2] for i in range(len(text) - 1)}


class Suggester:
    """Close matches for names that are not among ``candidates``, at a bounded cost per validation."""

    def __init__(self, candidates: Iterable[str]) -> None:
        self._candidates = list(dict.fromkeys(candidates))
        self._folded: dict[str, str] = {}
        for candidate in self._candidates:
            self._folded.setdefault(_fold(candidate), candidate)
        self._fuzzy_left = MAX_FUZZY_SEARCHES
        self._cache: dict[str, str | None] = {}
        self._index: dict[str, list[int]] | None = None  # letter pair -> candidates, built on first use

    def suggest(self, name: str) -> str | None:
        """The known name ``name`` most likely meant, or None."""
        if name in self._cache:
            return self._cache[name]
        found = self._folded.get(_fold(name))
        if found is None and self._fuzzy_left > 0 and self._candidates:
            self._fuzzy_left -= 1
            found = self._fuzzy(name)
        self._cache[name] = found
        return found

    def _fuzzy(self, name: str) -> str | None:
        if self._index is None:
            self._index = {}
            for number, candidate in enumerate(self._candidates):
                for pair in _pairs(candidate):
                    self._index.setdefault(pair, []).append(number)
        shared: Counter[int] = Counter()
        for pair in _pairs(name):
            shared.update(self._index.get(pair, ()))
        best = heapq.nlargest(MAX_RATIO_CANDIDATES, shared.items(), key=lambda item: (item[1], -item[0]))
        close = difflib.get_close_matches(
            name, [self._candidates[number] for number, _ in best], n=1, cutoff=0.6
        )
        return close[0] if close else None


def strongly_connected(count: int, edges: Callable[[int], Iterable[int]]) -> list[int]:
    """The strongly connected component of each node ``0..count-1`` (Tarjan's algorithm, iterative).

    Two nodes share a component exactly when each can reach the other, so an edge ``a -> b`` lies on a
    cycle exactly when ``a`` and ``b`` share one. O(nodes + edges); no recursion, whatever the depth.
    """
    component = [-1] * count
    order = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    counter = 0
    components = 0
    for root in range(count):
        if order[root] != -1:
            continue
        work: list[tuple[int, Iterable[int]]] = [(root, iter(edges(root)))]
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if order[child] == -1:
                    order[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, iter(edges(child))))
                    advanced = True
                    break
                if on_stack[child]:
                    low[node] = min(low[node], order[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == order[node]:
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component[member] = components
                    if member == node:
                        break
                components += 1
    return component


def cycle_path(
    start: int, target: int, edges: Callable[[int], Iterable[int]], component: Sequence[int]
) -> list[int]:
    """Nodes of a shortest cycle ``start -> target -> ... -> start``, searched within their component.

    [] when ``start`` and ``target`` are in different components (then there is no such cycle).
    """
    if component[start] != component[target]:
        return []
    parents: dict[int, int] = {target: start}
    queue = deque([target])
    while queue:
        current = queue.popleft()
        for following in edges(current):
            if following in parents or component[following] != component[start]:
                continue
            parents[following] = current
            if following == start:
                chain = [start]
                node = parents[start]
                while node != start:
                    chain.append(node)
                    node = parents[node]
                chain.append(start)
                return list(reversed(chain))
            queue.append(following)
    return []


def shorten_chain(names: Sequence[str]) -> list[str]:
    """``names`` itself when short; else its first and last few around a "... (N more) ..." marker."""
    if len(names) <= MAX_CHAIN_SHOWN:
        return list(names)
    head, tail = MAX_CHAIN_SHOWN - 3, 2
    return [*names[:head], f"... ({len(names) - head - tail} more)", *names[-tail:]]


class TagIndex:
    """The inventory's server IDs by ``(tag, value)``, in inventory order, built once per validation."""

    def __init__(self, inventory: Inventory) -> None:
        self._all = tuple(server.source_server_id for server in inventory.servers)
        self._by_tag: dict[tuple[str, str], list[str]] = {}
        self._sets: dict[tuple[str, str], set[str]] = {}
        for server in inventory.servers:
            for key, value in server.tags.items():
                self._by_tag.setdefault((key, value), []).append(server.source_server_id)

    def matching(self, selector: Mapping[str, str]) -> tuple[str, ...]:
        """What ``Inventory.matching(selector)`` gives, in time proportional to the smallest tag's servers."""
        if not selector:
            return self._all
        pairs = sorted(selector.items(), key=lambda pair: len(self._by_tag.get(pair, ())))
        smallest = self._by_tag.get(pairs[0], [])
        others = [self._set(pair) for pair in pairs[1:]]
        return tuple(sid for sid in smallest if all(sid in other for other in others))

    def _set(self, pair: tuple[str, str]) -> set[str]:
        found = self._sets.get(pair)
        if found is None:
            found = self._sets[pair] = set(self._by_tag.get(pair, ()))
        return found

"""SWARM.STATS through the command group: stats_page() and stats_iter(), sync and asyncio,
against a server of their own (so the database holds exactly the tables a test made)."""

from __future__ import annotations

import asyncio
from typing import Dict, Iterator, List, Set, Tuple

import pytest
import redis.asyncio as aioredis

from conftest import Server, start_server, stop_server
from swarm_redis import CommandError, StatsPage, Swarm, TableStats
from swarm_redis.aio import AsyncSwarm

TABLES = 30


@pytest.fixture(scope="module")
def own() -> Iterator[Server]:
    """A server whose database 0 holds TABLES routing tables (swarm:00 ... swarm:29; swarm:03
    with a route whose breaker is open and a DEFAULT target, swarm:07 with a rule), plus keys
    of other types that SWARM.STATS must skip."""
    s = start_server()
    try:
        r = s.client()
        r.config_set("swarm.breaker-threshold", "1")
        sw = Swarm(r)
        for t in range(TABLES):
            sw.route.add(f"swarm:{t:02d}", "task.>", f"stream:log:{t:02d}")
        sw.route.add("swarm:03", "alert.>", "channel:nobody-listens")
        sw.route.set_default("swarm:03", "stream:dead")
        sw.route.deny("swarm:07", "^secret\\..*")
        sw.publish("swarm:03", "task.a", {"n": 1})
        sw.publish("swarm:03", "alert.fire", {})  # missed: threshold 1 opens the breaker
        for k in range(40):
            r.set(f"plain:{k}", "x")
        sw.snapshot.save("doc:1", {"a": 1})
        r.close()
        yield s
    finally:
        stop_server(s)


def _keys(tables: List[Tuple[str, TableStats]]) -> List[str]:
    return [k for k, _ in tables]


EXPECTED = {f"swarm:{t:02d}" for t in range(TABLES)}


@pytest.mark.parametrize("decode", [True, False])
def test_stats_page_walks_every_table_in_several_pages(own: Server, decode: bool) -> None:
    r = own.client(decode_responses=decode)
    try:
        sw = Swarm(r)
        seen: List[str] = []
        pages = 0
        cursor = 0
        while True:
            page = sw.stats_page(cursor, count=5)
            assert isinstance(page, StatsPage)
            assert all(isinstance(st, TableStats) for _, st in page.tables)
            seen += _keys(page.tables)
            pages += 1
            cursor = page.cursor
            if cursor == 0:
                break
        # 71 keys visited 5 at a time: many calls, each table exactly once
        assert pages > 1
        assert sorted(seen) == sorted(EXPECTED)
    finally:
        r.close()


def test_stats_match_route_stats_and_count_open_breakers(own: Server) -> None:
    r = own.client()
    try:
        sw = Swarm(r)
        got: Dict[str, TableStats] = dict(sw.stats_iter(count=7))
        assert set(got) == EXPECTED
        hot = got["swarm:03"]
        # the missed alert went to the DEFAULT target: delivered there, counted deadlettered
        assert (hot.published, hot.delivered, hot.deadlettered, hot.routes, hot.default) == \
            (2, 2, 1, 2, "stream:dead")
        assert hot.breakers_open == 1
        assert [x.breaker for x in sw.route.list("swarm:03")] == ["closed", "open"]
        assert got["swarm:07"].rules == 1 and got["swarm:07"].breakers_open == 0
        assert got["swarm:00"].default is None and got["swarm:00"].published == 0
        # every field but breakers_open is what SWARM.ROUTE STATS answers
        for key in ("swarm:03", "swarm:07", "swarm:11"):
            plain = sw.route.stats(key)
            assert {f: getattr(got[key], f) for f in vars(plain)} == vars(plain)
    finally:
        r.close()


def test_stats_iter_default_count_and_one_key_per_call(own: Server) -> None:
    r = own.client()
    try:
        sw = Swarm(r)
        everything = _keys(list(sw.stats_iter()))
        assert sorted(everything) == sorted(EXPECTED)
        one_by_one = _keys(list(sw.stats_iter(count=1)))
        assert sorted(one_by_one) == sorted(EXPECTED)
    finally:
        r.close()


def test_stats_on_an_empty_database(own: Server) -> None:
    r = own.client(db=3)
    try:
        sw = Swarm(r)
        assert sw.stats_page(0) == StatsPage(0, [])
        assert list(sw.stats_iter()) == []
    finally:
        r.close()


def test_stats_errors(own: Server) -> None:
    r = own.client()
    try:
        sw = Swarm(r)
        for count in (0, 1001):
            with pytest.raises(CommandError) as info:
                sw.stats_page(0, count=count)
            assert (info.value.code, info.value.detail) == \
                ("ERR", "COUNT must be between 1 and 1000")
        with pytest.raises(CommandError) as info:
            sw.stats_page("not-a-cursor")
        assert (info.value.code, info.value.detail) == ("ERR", "invalid cursor")
        with pytest.raises(TypeError):
            sw.stats_page(0, count=True)
    finally:
        r.close()


def test_stats_page_in_a_pipeline(own: Server) -> None:
    r = own.client()
    try:
        pipe = r.pipeline(transaction=False)
        psw = Swarm(pipe)
        psw.stats_page(0, count=1000)
        psw.route.stats("swarm:03")
        page, plain = pipe.execute()
        assert isinstance(page, StatsPage) and page.cursor == 0
        assert sorted(_keys(page.tables)) == sorted(EXPECTED)
        assert plain.published == 2
        with pytest.raises(TypeError):
            psw.stats_iter()
    finally:
        r.close()


def test_stats_asyncio(own: Server) -> None:
    async def main() -> None:
        r = aioredis.Redis(host="127.0.0.1", port=own.port)
        try:
            sw = AsyncSwarm(r)
            seen: Set[str] = set()
            cursor, pages = 0, 0
            while True:
                page = await sw.stats_page(cursor, count=4)
                seen.update(_keys(page.tables))
                pages += 1
                cursor = page.cursor
                if cursor == 0:
                    break
            assert pages > 1 and seen == EXPECTED
            listed = [(k, st) async for k, st in sw.stats_iter(count=6)]
            assert sorted(_keys(listed)) == sorted(EXPECTED)
            assert dict(listed)["swarm:03"].breakers_open == 1
            with pytest.raises(CommandError) as info:
                await sw.stats_page(0, count=0)
            assert info.value.detail == "COUNT must be between 1 and 1000"
        finally:
            await r.close()
    asyncio.run(main())

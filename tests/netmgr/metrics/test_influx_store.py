"""The InfluxDB metrics store against a real influxd 1.6: both write paths, InfluxQL reads, outages, the spool."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from netmgr.errors import MetricsQueryError
from netmgr.metrics import MetricsStore, Point, make_metrics_store
from netmgr.metrics.influx import InfluxMetricsStore, InfluxV1Writer, InfluxV2Writer, LineWriter, make_influx_store
from netmgr.metrics.query import InfluxQLClient
from netmgr.metrics.spool import Spool
from tests.netmgr.metrics.conftest import StoreSettings
from tests.servers.influx import InfluxServer, NginxShim, nginx_shim
from tests.servers.process import free_port

BASE_NS = 1_700_000_000 * 10**9


def traffic(count: int, *, start: int = 0, device: str = "core-1") -> list[Point]:
    """``count`` points of one series, 1 ms apart, each carrying its sequence number."""
    return [Point("interface_traffic", {"agency": "diskominfo", "device": device, "interface": "ether1"},
                  {"in_bps": float(i * 1000), "seq": i}, BASE_NS + i * 1_000_000)
            for i in range(start, start + count)]


def count_and_times(server: InfluxServer, database: str) -> tuple[int, set[int]]:
    result = server.query("SELECT seq FROM interface_traffic", db=database)
    series = result["results"][0].get("series", [])  # type: ignore[index]
    values = series[0]["values"] if series else []
    return len(values), {row[0] for row in values}


class RecordingWriter:
    """Passes bodies on to the real writer and remembers what was acknowledged, in order."""

    def __init__(self, inner: LineWriter) -> None:
        self.inner = inner
        self.target = inner.target
        self.acknowledged: list[bytes] = []

    def write(self, body: bytes) -> None:
        self.inner.write(body)
        self.acknowledged.append(body)

    def close(self) -> None:
        self.inner.close()


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


# ---- both write paths and reads ----

def test_v1_store_creates_database_writes_and_reads_back(influx: InfluxServer, database: str,
                                                         store_settings: StoreSettings) -> None:
    store = make_metrics_store(store_settings(url=influx.url, api="v1", database=database))
    assert isinstance(store, MetricsStore)
    store.write(traffic(120))
    store.flush()
    rows = store.query("SELECT in_bps, seq, device FROM interface_traffic WHERE device = $device ORDER BY time",
                       {"device": "core-1"})
    store.close()
    assert len(rows) == 120
    assert rows[0] == {"time": BASE_NS, "in_bps": 0.0, "seq": 0, "device": "core-1"}
    assert rows[-1]["seq"] == 119
    assert store.stats().points_written == 120


def test_v2_store_writes_through_api_v2_write_and_reads_with_influxql(influx: InfluxServer, shim: NginxShim,
                                                                       database: str,
                                                                       store_settings: StoreSettings) -> None:
    influx.create_database(database)
    store = make_metrics_store(store_settings(url=shim.url, api="v2", bucket=f"{database}/autogen", org="-"))
    store.write(traffic(50))
    store.flush()
    rows = store.query("SELECT count(seq) AS n FROM interface_traffic GROUP BY device")
    store.close()
    assert rows == [{"device": "core-1", "time": 0, "n": 50}]


def test_nasty_names_round_trip_exactly(influx: InfluxServer, database: str, store_settings: StoreSettings) -> None:
    store = make_metrics_store(store_settings(url=influx.url, api="v1", database=database))
    tags = {"site": "Taman Kota, Sampit", "inter face": "a=b\\c"}
    fields = {"note": 'say "hi" \\ bye\nnext', "odd key=1": 2.5, "up": True}
    store.write([Point("m, x", tags, fields, BASE_NS)])
    store.flush()
    rows = store.query('SELECT * FROM "m, x"')
    store.close()
    assert rows == [{"time": BASE_NS, "inter face": "a=b\\c", "note": 'say "hi" \\ bye\nnext', "odd key=1": 2.5,
                     "site": "Taman Kota, Sampit", "up": True}]


def test_bad_influxql_raises_metrics_query_error(influx: InfluxServer, database: str,
                                                 store_settings: StoreSettings) -> None:
    store = make_metrics_store(store_settings(url=influx.url, api="v1", database=database))
    with pytest.raises(MetricsQueryError, match="refused|HTTP 400"):
        store.query("SELECT FROM WHERE")
    store.close()


def test_query_against_unreachable_server_raises_metrics_query_error(store_settings: StoreSettings) -> None:
    store = make_metrics_store(store_settings(url=dead_url(), api="v1", database="x", spool_max_bytes=0))
    with pytest.raises(MetricsQueryError, match="unreachable"):
        store.query("SHOW DATABASES")
    store.close()


def test_points_influxdb_refuses_are_counted_and_not_spooled(influx: InfluxServer, database: str,
                                                             store_settings: StoreSettings,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    store = make_metrics_store(store_settings(url=influx.url, api="v1", database=database))
    store.write([Point("m", {}, {"v": 1.0}, BASE_NS)])
    store.flush()
    # "v" is a float now; a string into it is a field type conflict (HTTP 400, partial write).
    store.write([Point("m", {}, {"v": "text"}, BASE_NS + 1), Point("m", {}, {"v": 3.0}, BASE_NS + 2)])
    with caplog.at_level(logging.ERROR, logger="netmgr.metrics.influx"):
        store.flush()
    stats = store.stats()
    rows = store.query("SELECT v FROM m")
    store.close()
    assert (stats.points_written, stats.points_rejected, stats.points_spooled) == (2, 1, 0)
    assert [r["v"] for r in rows] == [1.0, 3.0]
    assert "field type conflict" in caplog.text


# ---- outages and the spool ----

@pytest.mark.parametrize("api", ["v1", "v2"])
def test_outage_loses_no_point_and_replays_each_once_in_order(api: str, private_influx: InfluxServer, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    database = "outage"
    private_influx.create_database(database)
    with nginx_shim(private_influx) as shim:
        inner: LineWriter
        if api == "v1":
            inner = InfluxV1Writer(private_influx.url, database, timeout_s=2)
        else:
            inner = InfluxV2Writer(shim.url, bucket=database, org="-", token="", timeout_s=2)
        recorder = RecordingWriter(inner)
        store = InfluxMetricsStore(recorder, InfluxQLClient(private_influx.url, database),
                                   spool=Spool(tmp_path / "spool", max_bytes=10**7), batch_size=50)
        spooled_during_outage = 0
        with caplog.at_level(logging.WARNING, logger="netmgr.metrics.influx"):
            for batch in range(20):
                if batch == 6:
                    private_influx.stop()
                if batch == 13:
                    spooled_during_outage = store.stats().spool_segments
                    private_influx.start()  # same data dir, same port
                store.write(traffic(50, start=batch * 50))  # a full batch: write() sends (or spools) it
                time.sleep(0.1)
            store.flush()
        stats = store.stats()
        store.close()

    count, times = count_and_times(private_influx, database)
    assert spooled_during_outage > 0 and stats.points_spooled >= 7 * 50
    assert count == 1000 and times == {BASE_NS + i * 1_000_000 for i in range(1000)}
    # Each point acknowledged exactly once: first try or replay, never both, nothing left behind.
    assert stats.points_written + stats.points_replayed == 1000
    assert stats.points_replayed == stats.points_spooled
    assert (stats.spool_segments, stats.points_dropped, stats.points_lost) == (0, 0, 0)
    sent = [int(line.rsplit(b" ", 1)[1]) for body in recorder.acknowledged for line in body.splitlines()]
    assert sent == sorted(sent) and len(sent) == 1000
    assert "spooling to" in caplog.text and "answers again" in caplog.text


def test_full_spool_drops_oldest_segments_loudly_and_counts_them(store_settings: StoreSettings,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    settings = store_settings(url=dead_url(), api="v1", database="x", batch_size=100, spool_max_bytes=40_000)
    store = make_influx_store(settings)
    with caplog.at_level(logging.WARNING, logger="netmgr.metrics.spool"):
        for batch in range(10):
            store.write(traffic(100, start=batch * 100))
            store.flush()
    stats = store.stats()
    store.close()
    assert stats.points_dropped > 0
    assert stats.spool_bytes <= 40_000
    # Every point is either still waiting in the spool or counted as dropped.
    waiting = sum(p.read_bytes().count(b"\n") for p in settings.resolved_spool_dir.glob("lane-*/*.lp"))
    assert waiting + stats.points_dropped == 1000
    assert f"{stats.points_dropped} point(s) dropped so far" in caplog.text
    assert "metrics spool is full" in caplog.text


def test_new_store_replays_the_spool_an_earlier_process_left(influx: InfluxServer, database: str,
                                                             store_settings: StoreSettings) -> None:
    before = make_influx_store(store_settings(url=dead_url(), api="v1", database=database))
    before.write(traffic(30))
    before.write(traffic(30, start=30))
    before.close()  # flushes into the spool: the server is unreachable
    assert before.stats().points_spooled == 60

    after = make_influx_store(store_settings(url=influx.url, api="v1", database=database))
    assert after.stats().spool_segments >= 1
    after.flush()
    stats = after.stats()
    after.close()
    assert stats.points_replayed == 60 and stats.spool_segments == 0
    assert count_and_times(influx, database)[0] == 60


def test_lane_left_by_a_dead_process_is_adopted_and_replayed(influx: InfluxServer, database: str, tmp_path: Path,
                                                             store_settings: StoreSettings) -> None:
    orphan = tmp_path / "spool" / "lane-3"
    orphan.mkdir(parents=True)
    (orphan / "0000000000000007.lp").write_bytes(b"".join(p.to_line().encode() + b"\n" for p in traffic(5)))
    store = make_influx_store(store_settings(url=influx.url, api="v1", database=database))
    store.flush()
    stats = store.stats()
    store.close()
    assert stats.points_replayed == 5 and not list(orphan.glob("*.lp"))
    assert count_and_times(influx, database)[0] == 5


def test_torn_last_line_from_a_crash_is_cut_off_on_replay(influx: InfluxServer, database: str, tmp_path: Path,
                                                          store_settings: StoreSettings) -> None:
    lane = tmp_path / "spool" / "lane-0"
    lane.mkdir(parents=True)
    whole = b"".join(p.to_line().encode() + b"\n" for p in traffic(4))
    (lane / "0000000000000001.lp").write_bytes(whole + b"interface_traffic,device=core-1 in_b")
    store = make_influx_store(store_settings(url=influx.url, api="v1", database=database))
    store.flush()
    stats = store.stats()
    store.close()
    assert (stats.points_replayed, stats.points_rejected) == (4, 0)
    assert count_and_times(influx, database)[0] == 4


def test_disk_full_on_spool_write_is_reported_counted_and_not_raised(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=10**6)
    # The first segment the spool creates is /dev/full: every write to it fails with ENOSPC.
    (spool.lane / "0000000000000001.lp").symlink_to("/dev/full")
    store = InfluxMetricsStore(InfluxV1Writer(dead_url(), "x"), InfluxQLClient(dead_url(), "x"), spool=spool)
    with caplog.at_level(logging.ERROR, logger="netmgr.metrics.spool"):
        store.write(traffic(10))
        store.flush()  # must not raise
    store.write(traffic(10, start=10))
    store.flush()  # the next segment is an ordinary file again
    stats = store.stats()
    store.close()
    assert (stats.spool_errors, stats.points_lost, stats.points_spooled) == (1, 10, 10)
    assert "disk full" in caplog.text and "10 point(s)" in caplog.text
    assert not (spool.lane / "0000000000000001.lp").exists()


def test_without_a_spool_points_for_an_unreachable_server_are_counted_as_lost(store_settings: StoreSettings) -> None:
    store = make_influx_store(store_settings(url=dead_url(), api="v1", database="x", spool_max_bytes=0))
    store.write(traffic(7))
    store.flush()
    assert store.stats().points_lost == 7
    store.close()


def test_backoff_sends_automatic_flushes_straight_to_the_spool(tmp_path: Path) -> None:
    now = [100.0]
    attempts: list[float] = []

    class CountingWriter(RecordingWriter):
        def write(self, body: bytes) -> None:
            attempts.append(now[0])
            super().write(body)

    store = InfluxMetricsStore(CountingWriter(InfluxV1Writer(dead_url(), "x")), InfluxQLClient(dead_url(), "x"),
                               spool=Spool(tmp_path / "spool", max_bytes=10**6), batch_size=10,
                               clock=lambda: now[0])
    store.write(traffic(10))            # tries, fails: backs off 1 s
    store.write(traffic(10, start=10))  # within the back-off: spooled without trying
    now[0] += 1.5
    store.write(traffic(10, start=20))  # back-off over: tries again (fails, backs off 2 s)
    store.close()                       # an explicit flush always tries
    assert attempts == [100.0, 101.5, 101.5]
    assert store.stats().points_spooled == 30


def test_unusable_spool_directory_degrades_to_no_spool_with_an_error(tmp_path: Path, store_settings: StoreSettings,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the spool directory should be")
    with caplog.at_level(logging.ERROR, logger="netmgr.metrics.influx"):
        store = make_influx_store(store_settings(url=dead_url(), api="v1", database="x", spool_dir=blocker / "spool"))
    store.write(traffic(3))
    store.flush()
    assert store.stats().points_lost == 3
    assert "cannot use the spool directory" in caplog.text
    store.close()

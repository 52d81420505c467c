"""Alert rules: hold-down and flap damping with known answers, device/site rules with real notifications,
uplink saturation and interface errors against points in a real influxd."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.alerts import Damped, DampingPolicy, EvaluationResult, Transition, evaluate_alerts, observe
from collectors.availability import Availability, record_availability
from collectors.notify.telegram import TelegramNotifier
from netmgr.metrics import MetricsStore, Point, make_metrics_store
from netmgr.models import Alert, Device, Interface, Notification
from netmgr.models.alerts import AlertKind, AlertState
from netmgr.models.enums import DeviceStatus, SiteKind
from netmgr.settings import Settings
from tests import factories
from tests.conftest import make_settings
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.telegram import BotApi, bot_api_server

T0 = datetime(2026, 3, 2, 7, 5, tzinfo=UTC)  # 14:05 WIB
POLICY = DampingPolicy(raise_after_s=90, clear_after_s=120, flap_window_s=1800, flap_threshold=4, flap_clear_s=900)
TOKEN = "42:test-token"  # noqa: S105 - fake token for the local Bot API


def run(sequence: list[tuple[int, bool]], policy: DampingPolicy = POLICY) -> list[tuple[int, Transition]]:
    """Feed (seconds after T0, problem) observations; return (seconds, transition) for each change."""
    state = Damped(raw=False, raw_since=T0)
    out = []
    for seconds, problem in sequence:
        out.extend((seconds, t) for t in observe(state, problem, T0 + timedelta(seconds=seconds), policy))
    return out


def every(step: int, until: int, problem: bool, start: int = 0) -> list[tuple[int, bool]]:
    return [(s, problem) for s in range(start, until + 1, step)]


# ---------------------------------------------------------------------------------------------- damping


def test_outage_shorter_than_the_hold_down_raises_nothing() -> None:
    assert run([(0, True), (30, True), (60, False), (90, False), (300, False)]) == []


def test_outage_raises_after_the_hold_down_and_clears_after_the_clear_hold() -> None:
    sequence = every(30, 300, True) + every(30, 600, False, start=330)
    assert run(sequence) == [(90, Transition.RAISE), (450, Transition.CLEAR)]


def test_recovery_shorter_than_the_clear_hold_keeps_the_alert_open() -> None:
    sequence = every(30, 300, True) + [(330, False), (360, False)] + every(30, 600, True, start=390)
    assert run(sequence) == [(90, Transition.RAISE)]


def test_flapping_raises_one_flapping_alert_not_one_per_change() -> None:
    # down/up every minute for 20 minutes, then up and stable
    flaps = [(s, (s // 60) % 2 == 0) for s in range(0, 1200, 30)]
    stable = every(30, 3000, False, start=1200)
    got = run(flaps + stable)
    # the 4th change (at 180 s) makes it flapping; it settles 900 s after the last change (1140 s → 2040 s)
    assert got == [(180, Transition.FLAP_START), (2040, Transition.FLAP_END)]


def test_flapping_that_settles_down_ends_with_the_alert_raised() -> None:
    flaps = [(s, (s // 60) % 2 == 0) for s in range(0, 600, 60)]  # last change at 540 s: up
    got = run(flaps + every(60, 1800, True, start=600))
    # down again from 600 s: held 900 s → 1500 s ends the flapping and raises at once (held past the hold-down)
    assert got == [(180, Transition.FLAP_START), (1500, Transition.FLAP_END), (1500, Transition.RAISE)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 400), st.booleans()), max_size=80))
def test_transitions_always_alternate_and_stay_quiet_while_flapping(steps: list[tuple[int, bool]]) -> None:
    seconds, sequence = 0, []
    for gap, problem in steps:
        seconds += gap
        sequence.append((seconds, problem))
    active = flapping = False
    for _, transition in run(sequence):
        if transition == Transition.FLAP_START:
            assert not flapping
            flapping = True
        elif transition == Transition.FLAP_END:
            assert flapping
            flapping = False
        else:
            assert not flapping, "no alert opens or resolves while flapping"
            assert (transition == Transition.RAISE) != active, "RAISE and CLEAR alternate"
            active = transition == Transition.RAISE


# ---------------------------------------------------------------------------------------------- device and site rules


@pytest.fixture
def bot() -> Iterator[BotApi]:
    with bot_api_server(TOKEN, {"-100"}) as api:
        yield api


def _settings(tmp_path: Path, **influx: object) -> Settings:
    return make_settings(tmp_path / "rules", influx=influx or {"enabled": False})


def _set(session: Session, device: Device, up: bool, at: datetime) -> None:
    result = Availability(up=up, tries=3, answered=3 if up else 0, latency_ms=2.0 if up else None,
                          uptime_s=100 if up else None, error="" if up else "no SNMP answer")
    record_availability(session, device, result, now=at)
    session.commit()


def _evaluate(factory: sessionmaker[Session], bot: BotApi, rules: Settings, seconds: int,
              store: MetricsStore | None = None) -> EvaluationResult:
    notifier = TelegramNotifier(token=TOKEN, chat_ids=["-100"], api_url=bot.url)
    return evaluate_alerts(factory, store=store, notifiers=[notifier], settings=rules,
                           now=T0 + timedelta(seconds=seconds))


@pytest.mark.parametrize(("tz", "down", "up"), [("Asia/Jakarta", "14:05 WIB", "14:10 WIB"),
                                               ("Asia/Makassar", "15:05 WITA", "15:10 WITA"),
                                               ("Asia/Jayapura", "16:05 WIT", "16:10 WIT")])
def test_device_down_opens_after_the_hold_down_and_notifies_in_indonesian_local_time(
        session_factory: sessionmaker[Session], session: Session, bot: BotApi, tmp_path: Path,
        tz: str, down: str, up: str) -> None:
    rules = _settings(tmp_path).model_copy(update={"timezone": tz})
    site = factories.site(session, name="Taman Kota Sampit", kind=SiteKind.PUBLIC_HOTSPOT)
    ap = factories.device(session, site_id=site.id, name="ap-taman-kota-01")
    factories.device(session, site_id=site.id, name="ap-taman-kota-02")
    _set(session, ap, True, T0 - timedelta(hours=1))
    _set(session, ap, False, T0)

    assert _evaluate(session_factory, bot, rules, 30).opened == []
    opened = _evaluate(session_factory, bot, rules, 120).opened
    assert [c.kind for c in opened] == [AlertKind.DEVICE_DOWN]
    expected = f"🔴 PERANGKAT MATI: ap-taman-kota-01 (Taman Kota Sampit) tidak merespons sejak {down}"
    assert bot.texts() == [f"{expected}\nAlasan: SNMP: no SNMP answer pukul {down}"]

    _set(session, ap, True, T0 + timedelta(seconds=200))
    assert _evaluate(session_factory, bot, rules, 240).resolved == []
    resolved = _evaluate(session_factory, bot, rules, 330).resolved
    assert [c.kind for c in resolved] == [AlertKind.DEVICE_DOWN]
    assert bot.texts()[-1] == ("🟢 PERANGKAT PULIH: ap-taman-kota-01 (Taman Kota Sampit) kembali merespons "
                               f"pukul {up} (mati 5 menit)")
    with session_factory() as s:
        alert = s.scalars(select(Alert)).one()
        assert alert.state == AlertState.RESOLVED and alert.message == expected
        assert [(n.event, n.channel, n.recipient, n.ok) for n in alert.notifications] == [
            ("opened", "telegram", "-100", True), ("resolved", "telegram", "-100", True)]


@pytest.mark.parametrize(("tz", "pinged", "polled"), [("Asia/Jakarta", "14:04 WIB", "14:05 WIB"),
                                                      ("Asia/Makassar", "15:04 WITA", "15:05 WITA")])
def test_an_unreachable_device_alert_keeps_its_ping_and_snmp_evidence_and_the_message_says_it(
        session_factory: sessionmaker[Session], session: Session, bot: BotApi, tmp_path: Path,
        tz: str, pinged: str, polled: str) -> None:
    rules = _settings(tmp_path).model_copy(update={"timezone": tz})
    site = factories.site(session, name="Kantor Dinas Kesehatan")
    router = factories.device(session, site_id=site.id, name="dist-dinkes", mgmt_address="10.2.3.4")
    factories.device(session, site_id=site.id, name="ap-dinkes-01")
    router.ping_status, router.ping_loss_percent = DeviceStatus.DOWN, 100.0
    router.ping_checked_at = T0 - timedelta(seconds=60)
    _set(session, router, False, T0)  # the SNMP poller's error: "no SNMP answer"

    assert [c.kind for c in _evaluate(session_factory, bot, rules, 120).opened] == [AlertKind.DEVICE_DOWN]
    with session_factory() as s:
        alert = s.scalars(select(Alert)).one()
        assert alert.reason == [
            {"check": "ping", "address": "10.2.3.4", "sent": 3, "received": 0, "at": "2026-03-02T07:04:00+00:00"},
            {"check": "snmp", "error": "no SNMP answer", "at": "2026-03-02T07:05:00+00:00"}]
        assert "Alasan" not in alert.message  # the reason is stored apart and worded in the reader's language
    assert bot.texts()[0].endswith(f"\nAlasan: ping 0/3 balasan dari 10.2.3.4 pukul {pinged}; "
                                   f"SNMP: no SNMP answer pukul {polled}")


def test_snmp_silent_alert_names_the_ping_that_answered_and_suspects_the_credentials(
        session_factory: sessionmaker[Session], session: Session, bot: BotApi, tmp_path: Path) -> None:
    rules = _settings(tmp_path)
    site = factories.site(session, name="Kantor Bappeda")
    router = factories.device(session, site_id=site.id, name="dist-bappeda", mgmt_address="10.2.9.1")
    router.ping_status, router.ping_loss_percent = DeviceStatus.UP, 0.0
    router.ping_checked_at = T0
    _set(session, router, False, T0)

    assert [c.kind for c in _evaluate(session_factory, bot, rules, 120).opened] == [AlertKind.SNMP_SILENT]
    assert bot.texts()[0].split("\n")[1] == (
        "Alasan: ping 3/3 balasan dari 10.2.9.1 pukul 14:05 WIB; SNMP: no SNMP answer pukul 14:05 WIB; "
        "SNMP tidak menjawab padahal ping menjawab: community, kredensial v3 atau ACL ditolak?")


def test_whole_site_down_sends_one_site_alert_instead_of_one_per_device(
        session_factory: sessionmaker[Session], session: Session, bot: BotApi, tmp_path: Path) -> None:
    rules = _settings(tmp_path)
    site = factories.site(session, name="Kantor Kecamatan Baamang")
    devices = [factories.device(session, site_id=site.id, name=f"sw-baamang-{i}") for i in range(3)]
    for i, device in enumerate(devices):
        _set(session, device, False, T0 + timedelta(seconds=10 * i))

    result = _evaluate(session_factory, bot, rules, 150)
    assert sorted(c.kind for c in result.opened) == [AlertKind.DEVICE_DOWN] * 3 + [AlertKind.SITE_DOWN]
    assert result.suppressed == 3
    assert bot.texts() == ["🔴 LOKASI MATI: semua 3 perangkat di Kantor Kecamatan Baamang tidak merespons "
                           "sejak 14:05 WIB\nAlasan: tidak ada jawaban dari sw-baamang-0, sw-baamang-1, sw-baamang-2"]


def test_a_flapping_device_raises_one_flapping_alert_and_no_down_alerts(
        session_factory: sessionmaker[Session], session: Session, bot: BotApi, tmp_path: Path) -> None:
    rules = _settings(tmp_path)
    site = factories.site(session, name="Puskesmas Ketapang")
    ap = factories.device(session, site_id=site.id, name="ap-puskesmas-ketapang")
    factories.device(session, site_id=site.id, name="router-puskesmas-ketapang")
    for minute in range(12):
        _set(session, ap, minute % 2 == 1, T0 + timedelta(seconds=60 * minute))  # down, up, down, …
        _evaluate(session_factory, bot, rules, 60 * minute + 45)
    with session_factory() as s:
        alerts = list(s.scalars(select(Alert)))
    assert [(a.kind, a.state) for a in alerts] == [(AlertKind.FLAPPING, AlertState.OPEN)]
    assert len(bot.texts()) == 1 and bot.texts()[0].startswith("🟡 TIDAK STABIL: ap-puskesmas-ketapang (Puskesmas")


def test_failed_notifications_are_logged_per_recipient(session_factory: sessionmaker[Session], session: Session,
                                                      tmp_path: Path) -> None:
    rules = _settings(tmp_path)
    site = factories.site(session)
    device = factories.device(session, site_id=site.id)
    factories.device(session, site_id=site.id)
    _set(session, device, False, T0)
    with bot_api_server(TOKEN, {"-100"}, blocked={"-200"}) as api:
        notifier = TelegramNotifier(token=TOKEN, chat_ids=["-200", "-100"], api_url=api.url)
        result = evaluate_alerts(session_factory, store=None, notifiers=[notifier], settings=rules,
                                 now=T0 + timedelta(minutes=5))
    assert (result.sent, result.failed) == (1, 1)
    with session_factory() as s:
        rows = {n.recipient: n for n in s.scalars(select(Notification))}
    assert rows["-100"].ok and not rows["-200"].ok and "blocked" in rows["-200"].error


# ---------------------------------------------------------------------------------------------- metrics rules


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


def _store(influx: InfluxServer, tmp_path: Path) -> tuple[Settings, MetricsStore]:
    database = f"t_{uuid.uuid4().hex[:10]}"
    influx.create_database(database)
    rules = make_settings(tmp_path / "metrics", influx={"url": influx.url, "api": "v1", "database": database,
                                                        "spool_dir": tmp_path / "spool"},
                          alerts={"uplink_saturation_minutes": 10, "interface_errors_window_minutes": 15,
                                  "interface_errors_min": 100})
    return rules, make_metrics_store(rules)


def _traffic(device: str, interface: str, minutes: range, **fields: float | int) -> list[Point]:
    return [Point("interface_traffic", {"device": device, "interface": interface, "role": "core_router"},
                  dict(fields), int((T0 - timedelta(minutes=m)).timestamp()) * 10**9) for m in minutes]


def test_uplink_above_90_percent_for_the_whole_window_opens_one_alert(
        session_factory: sessionmaker[Session], session: Session, bot: BotApi, influx: InfluxServer,
        tmp_path: Path) -> None:
    rules, store = _store(influx, tmp_path)
    site = factories.site(session, name="Ruang Server Diskominfo", kind=SiteKind.POP)
    core = factories.device(session, site_id=site.id, name="core-diskominfo")
    saturated = factories.uplink(session, name="telkom-astinet", capacity_down_mbps=100, capacity_up_mbps=50,
                                 device_id=core.id, interface_name="sfp1")
    dipped = factories.uplink(session, name="icon-plus", capacity_down_mbps=100, capacity_up_mbps=100,
                              device_id=core.id, interface_name="sfp2")
    recent = factories.uplink(session, name="biznet", isp_name="Biznet", capacity_down_mbps=100,
                              capacity_up_mbps=100, device_id=core.id, interface_name="sfp3")
    points = _traffic("core-diskominfo", "sfp1", range(0, 15), in_bps=95e6, out_bps=10e6)
    points += [p for m, p in zip(range(0, 15), _traffic("core-diskominfo", "sfp2", range(0, 15), in_bps=97e6,
                                                           out_bps=1e6), strict=True) if m != 4]
    points += _traffic("core-diskominfo", "sfp2", range(4, 5), in_bps=80e6, out_bps=1e6)  # one dip below 90 %
    points += _traffic("core-diskominfo", "sfp3", range(0, 5), in_bps=99e6, out_bps=1e6)  # only the last 5 minutes
    store.write(points)
    store.flush()
    try:
        result = _evaluate(session_factory, bot, rules, 0, store=store)
    finally:
        store.close()
    assert result.metrics_error == ""
    assert [(c.kind, c.alert_id) for c in result.opened] == [
        (AlertKind.UPLINK_SATURATED, session.scalar(select(Alert.id).where(Alert.subject_id == saturated.id)))]
    assert bot.texts() == ["🟠 UPLINK PENUH: telkom-astinet (Telkom Astinet) arah unduh terpakai 95% dari "
                           "kapasitas 100 Mbps selama 10 menit terakhir (sejak 13:55 WIB)"]
    alert = session.scalars(select(Alert)).one()
    assert alert.agency_id is None and alert.value == 95.0
    assert {dipped.id, recent.id}.isdisjoint({alert.subject_id})


def test_interface_errors_rising_opens_an_alert_and_steady_errors_do_not(
        session_factory: sessionmaker[Session], session: Session, bot: BotApi, influx: InfluxServer,
        tmp_path: Path) -> None:
    rules, store = _store(influx, tmp_path)
    site = factories.site(session, name="SMPN 1 Sampit")
    switch = factories.device(session, site_id=site.id, name="sw-smpn1")
    for name in ("ether1", "ether2"):
        session.add(Interface(device_id=switch.id, name=name, if_index=int(name[-1])))
    session.commit()
    # ether1: 2 errors a minute before, 20 a minute now (300 in 15 min) → rising; ether2: steady 20 a minute
    points = _traffic("sw-smpn1", "ether1", range(0, 15), in_errors=15, out_errors=5)
    points += _traffic("sw-smpn1", "ether1", range(15, 30), in_errors=2, out_errors=0)
    points += _traffic("sw-smpn1", "ether2", range(0, 30), in_errors=20, out_errors=0)
    store.write(points)
    store.flush()
    try:
        result = _evaluate(session_factory, bot, rules, 0, store=store)
    finally:
        store.close()
    assert [c.kind for c in result.opened] == [AlertKind.INTERFACE_ERRORS]
    assert bot.texts() == ["🟠 GALAT ANTARMUKA MENINGKAT: ether1 di sw-smpn1 (SMPN 1 Sampit): 300 galat dalam "
                           "15 menit terakhir (sebelumnya 30)"]


def test_metrics_rules_are_skipped_while_influxdb_is_unreachable(
        session_factory: sessionmaker[Session], session: Session, bot: BotApi, tmp_path: Path) -> None:
    from tests.servers.process import free_port

    rules = make_settings(tmp_path / "x", influx={"url": f"http://127.0.0.1:{free_port()}", "api": "v1",
                                                  "database": "x", "timeout_ms": 500, "spool_dir": tmp_path / "s"})
    site = factories.site(session)
    core = factories.device(session, site_id=site.id)
    factories.uplink(session, device_id=core.id, interface_name="sfp1")
    store = make_metrics_store(rules)
    try:
        result = _evaluate(session_factory, bot, rules, 0, store=store)
    finally:
        store.close()
    assert "unreachable" in result.metrics_error and result.opened == []

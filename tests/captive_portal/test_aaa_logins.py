"""Login decisions (authorize) and their bookkeeping (post-auth) as the AAA worker runs them: voucher states,
the devices a voucher may serve at once, daily quotas, first use of a voucher, grants and remembered devices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from captive_portal import aaa, decisions
from captive_portal.decisions import AttemptLimits, RefusalReason, message
from netmgr.models import AccessGrant, Alert, HotspotSession, SubscriberDevice, Voucher
from netmgr.models.alerts import AlertKind
from netmgr.models.hotspot import LoginAttempt, LoginMethod, SessionStatus, Subscriber, VoucherStatus
from netmgr.settings import Settings
from tests.captive_portal.hotspot_data import Seeded, add_voucher, client_at, seed_hotspot
from tests.zones import ZONES, local

CFG = aaa.AaaConfig(timezone="Asia/Jakarta")
MAC = "46:12:1F:20:79:D7"
OTHER_MAC = "AA:BB:CC:00:00:02"


def _req(session: Session, user: str, mac: str = MAC, nas_ip: str = "127.0.0.1") -> aaa.RadiusRequest:
    """An Access-Request from the gateway at ``nas_ip``, as FreeRADIUS forwards it (with the client it matched)."""
    return aaa.RadiusRequest(username=user, mac=mac, ip="192.168.201.10", nas_ip=nas_ip,
                             client=client_at(session, nas_ip))


def _session_row(s: Session, seeded: Seeded, *, mac: str, voucher_id: int | None = None,
                 subscriber_id: int | None = None, time_s: int = 0, now: datetime) -> None:
    s.add(HotspotSession(hotspot_id=seeded.hotspot.id, nas_device_id=seeded.nas.id,
                         acct_session_id=f"s-{mac}-{voucher_id}-{subscriber_id}", mac=mac, voucher_id=voucher_id,
                         subscriber_id=subscriber_id, status=SessionStatus.ACTIVE, started_at=now,
                         last_update_at=now, session_time_s=time_s))
    s.commit()


def _failed_attempts(s: Session, reason: RefusalReason) -> int:
    return s.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.reason == reason.value, LoginAttempt.success.is_(False))) or 0


def test_voucher_login_is_accepted_with_its_code_as_the_password_and_the_policy(session: Session) -> None:
    seeded = seed_hotspot(session)
    add_voucher(session, seeded.batch, "LOGIN001")

    decision = aaa.authorize(session, CFG, _req(session, "login001"), now=datetime.now(UTC))

    assert decision.accept
    assert decision.attributes["control:Cleartext-Password"] == "LOGIN001"
    assert decision.attributes["reply:Session-Timeout"] == 3600  # the person's daily time is the least
    assert decision.attributes["reply:Mikrotik-Rate-Limit"] == "2000k/5000k"


def test_first_post_auth_starts_the_voucher_and_a_later_one_keeps_its_start(session: Session) -> None:
    seeded = seed_hotspot(session)
    voucher = add_voucher(session, seeded.batch, "LOGIN002")
    first = datetime.now(UTC).replace(microsecond=0)

    aaa.post_auth(session, CFG, _req(session, "LOGIN002"), now=first, rejected=False, reply_message="")
    session.commit()
    aaa.post_auth(session, CFG, _req(session, "LOGIN002"), now=first + timedelta(minutes=5), rejected=False,
                  reply_message="")
    session.commit()

    session.refresh(voucher)
    assert voucher.status == VoucherStatus.ACTIVE
    assert voucher.first_used_at is not None and voucher.first_used_at == first
    assert voucher.expires_at is not None and voucher.expires_at == first + timedelta(days=1)
    subscriber = session.get(Subscriber, voucher.subscriber_id)
    assert subscriber is not None and subscriber.identity == "voucher:LOGIN002"
    device = session.scalar(select(SubscriberDevice).where(SubscriberDevice.mac == MAC))
    assert device is not None and device.subscriber_id == subscriber.id
    assert device.first_seen_at == first
    assert device.last_seen_at == first + timedelta(minutes=5)
    assert session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success)) == 2


def test_used_and_revoked_vouchers_are_refused_with_their_reason_and_the_attempt_is_counted(
        session: Session) -> None:
    seeded = seed_hotspot(session)
    add_voucher(session, seeded.batch, "USED0001", status=VoucherStatus.USED)
    add_voucher(session, seeded.batch, "REVOKED1", status=VoucherStatus.REVOKED)
    now = datetime.now(UTC)

    used = aaa.authorize(session, CFG, _req(session, "USED0001"), now=now)
    revoked = aaa.authorize(session, CFG, _req(session, "REVOKED1"), now=now)

    assert not used.accept and used.attributes == {"reply:Reply-Message": message(RefusalReason.VOUCHER_USED)}
    assert not revoked.accept and revoked.refusal == RefusalReason.VOUCHER_REVOKED
    assert _failed_attempts(session, RefusalReason.VOUCHER_USED) == 1
    assert _failed_attempts(session, RefusalReason.VOUCHER_REVOKED) == 1


def test_voucher_past_its_lifetime_is_refused_and_marked_used(session: Session) -> None:
    seeded = seed_hotspot(session)
    voucher = add_voucher(session, seeded.batch, "OLD00001")
    now = datetime.now(UTC)
    voucher.status, voucher.first_used_at, voucher.expires_at = VoucherStatus.ACTIVE, now - timedelta(days=2), now
    session.commit()

    decision = aaa.authorize(session, CFG, _req(session, "OLD00001"), now=now)
    session.commit()

    assert decision.refusal == RefusalReason.VOUCHER_USED
    session.refresh(voucher)
    assert voucher.status == VoucherStatus.USED


def test_voucher_of_another_hotspot_is_refused(session: Session) -> None:
    here = seed_hotspot(session)
    elsewhere = seed_hotspot(session, nas_address="127.0.0.2")
    add_voucher(session, elsewhere.batch, "ELSEWHR1")

    decision = aaa.authorize(session, CFG, _req(session, "ELSEWHR1", nas_ip=here.nas.mgmt_address),
                             now=datetime.now(UTC))

    assert decision.refusal == RefusalReason.VOUCHER_WRONG_HOTSPOT


def test_voucher_in_use_on_another_device_refuses_a_second_device_but_not_the_same_one(session: Session) -> None:
    seeded = seed_hotspot(session)
    voucher = add_voucher(session, seeded.batch, "SHARED01")
    now = datetime.now(UTC)
    _session_row(session, seeded, mac=OTHER_MAC, voucher_id=voucher.id, now=now)

    second = aaa.authorize(session, CFG, _req(session, "SHARED01"), now=now)
    same = aaa.authorize(session, CFG, _req(session, "SHARED01", mac=OTHER_MAC), now=now)

    assert second.refusal == RefusalReason.TOO_MANY_DEVICES
    assert same.accept


def test_person_over_the_daily_time_is_refused_and_a_device_near_it_gets_only_the_rest(session: Session) -> None:
    seeded = seed_hotspot(session, device_daily_time_s=1800)
    done = add_voucher(session, seeded.batch, "DONE0001")
    now = datetime.now(UTC).replace(hour=5)  # noon in Jakarta: today's usage is not cut short by midnight
    done.subscriber_id = _subscriber(session, "voucher:DONE0001")
    session.commit()
    _session_row(session, seeded, mac=OTHER_MAC, subscriber_id=done.subscriber_id, time_s=3600, now=now)
    add_voucher(session, seeded.batch, "FRESH001")
    _session_row(session, seeded, mac="AA:BB:CC:00:00:03", time_s=1500, now=now)

    refused = aaa.authorize(session, CFG, _req(session, "DONE0001"), now=now)
    partial = aaa.authorize(session, CFG, _req(session, "FRESH001", mac="AA:BB:CC:00:00:03"), now=now)

    assert refused.refusal == RefusalReason.PERSON_TIME_USED
    assert partial.accept and partial.attributes["reply:Session-Timeout"] == 300


@pytest.mark.parametrize("tz", ZONES)
def test_a_persons_daily_time_resets_at_local_midnight_of_the_installations_zone(session: Session, tz: str) -> None:
    cfg = aaa.AaaConfig.from_settings(Settings(timezone=tz))
    seeded = seed_hotspot(session)  # a person may use 3600 s a day
    voucher = add_voucher(session, seeded.batch, "EARLY001")
    voucher.subscriber_id = _subscriber(session, "voucher:EARLY001")
    session.commit()
    _session_row(session, seeded, mac=OTHER_MAC, subscriber_id=voucher.subscriber_id, time_s=3600,
                 now=local(tz, 2026, 1, 31, 23, 50))  # yesterday's hour, local time

    assert aaa.authorize(session, cfg, _req(session, "EARLY001"), now=local(tz, 2026, 1, 31, 23, 59)).refusal \
        == RefusalReason.PERSON_TIME_USED
    fresh = aaa.authorize(session, cfg, _req(session, "EARLY001"), now=local(tz, 2026, 2, 1, 0, 0))
    assert fresh.accept and fresh.attributes["reply:Session-Timeout"] == 3600
    _session_row(session, seeded, mac="AA:BB:CC:00:00:03", subscriber_id=voucher.subscriber_id, time_s=3600,
                 now=local(tz, 2026, 2, 1, 0, 1))  # today's hour, though still 31 January in UTC
    assert aaa.authorize(session, cfg, _req(session, "EARLY001"), now=local(tz, 2026, 2, 1, 0, 30)).refusal \
        == RefusalReason.PERSON_TIME_USED


def test_grant_post_auth_records_the_first_use_only_once(session: Session) -> None:
    seeded = seed_hotspot(session)
    subscriber = _subscriber(session, "phone:abc")
    first = datetime.now(UTC).replace(microsecond=0)
    user, _ = decisions.issue_grant(session, hotspot_id=seeded.hotspot.id, subscriber_id=subscriber,
                              policy_id=seeded.policy.id, method=LoginMethod.PHONE_OTP, mac=MAC, now=first)
    session.commit()

    aaa.post_auth(session, CFG, _req(session, user), now=first, rejected=False, reply_message="")
    aaa.post_auth(session, CFG, _req(session, user), now=first + timedelta(minutes=1), rejected=False,
                  reply_message="")
    session.commit()

    grant = session.scalar(select(AccessGrant).where(AccessGrant.username == user))
    assert grant is not None and grant.used_at is not None and grant.used_at == first
    device = session.scalar(select(SubscriberDevice).where(SubscriberDevice.mac == MAC))
    assert device is not None and device.subscriber_id == subscriber


def test_rejected_post_auth_counts_a_wrong_password_only_without_a_reply_message(session: Session) -> None:
    seed_hotspot(session)
    now = datetime.now(UTC)

    aaa.post_auth(session, CFG, _req(session, "NOPE0001"), now=now, rejected=True, reply_message="")
    aaa.post_auth(session, CFG, _req(session, "NOPE0001"), now=now, rejected=True,
                  reply_message=message(RefusalReason.VOUCHER_USED))
    session.commit()

    assert _failed_attempts(session, RefusalReason.WRONG_PASSWORD) == 1
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1
    assert session.scalar(select(func.count()).select_from(Voucher)) == 0


def _subscriber(s: Session, identity: str) -> int:
    row = Subscriber(identity=identity, kind=LoginMethod.PHONE_OTP, created_at=datetime.now(UTC))
    s.add(row)
    s.commit()
    return row.id


def test_unknown_and_unusable_codes_get_the_same_reply_message(session: Session) -> None:
    here = seed_hotspot(session)
    elsewhere = seed_hotspot(session, nas_address="127.0.0.2")
    add_voucher(session, here.batch, "USED0002", status=VoucherStatus.USED)
    add_voucher(session, here.batch, "REVOKED2", status=VoucherStatus.REVOKED)
    add_voucher(session, elsewhere.batch, "ELSEWHR2")
    now = datetime.now(UTC)

    replies = {aaa.authorize(session, CFG, _req(session, code, nas_ip=here.nas.mgmt_address), now=now)
               .attributes["reply:Reply-Message"] for code in ("NOSUCH01", "USED0002", "REVOKED2", "ELSEWHR2")}

    assert replies == {"Kode voucher ini tidak dapat dipakai. Periksa apakah kode diketik sesuai cetakan: kode yang "
                       "sudah habis dipakai, kedaluwarsa, atau dibatalkan tidak berlaku lagi."}


def test_guesses_through_radius_meet_the_hotspots_ceiling_of_wrong_voucher_codes(session: Session) -> None:
    seeded = seed_hotspot(session)
    add_voucher(session, seeded.batch, "GOOD0001")
    cfg = aaa.AaaConfig(timezone="Asia/Jakarta", attempts=AttemptLimits(voucher_failures_per_hotspot_per_hour=5))
    subscriber = Subscriber(identity="device:02:00:00:00:00:99", kind=LoginMethod.CLICK_THROUGH)
    session.add(subscriber)
    session.flush()
    username, _ = decisions.issue_grant(session, hotspot_id=seeded.hotspot.id, subscriber_id=subscriber.id,
                                  policy_id=seeded.policy.id, method=LoginMethod.CLICK_THROUGH,
                                  mac="02:00:00:00:00:99", now=datetime.now(UTC))
    session.commit()
    now = datetime.now(UTC)

    refusals = [aaa.authorize(session, cfg, _req(session, f"GUESS{n:03d}", mac=f"02:00:00:00:01:{n:02X}"),
                              now=now).refusal
                for n in range(8)]  # a new MAC for every guess: the per-device limit never bites

    assert refusals == [RefusalReason.UNKNOWN_USER] * 5 + [RefusalReason.VOUCHERS_PAUSED] * 3
    good = aaa.authorize(session, cfg, _req(session, "GOOD0001", mac="02:00:00:00:02:01"), now=now)
    assert good.refusal == RefusalReason.VOUCHERS_PAUSED  # a valid code waits too: the answer tells nothing
    # portal logins go on
    assert aaa.authorize(session, cfg, _req(session, username, mac="02:00:00:00:00:99"), now=now).accept
    session.commit()
    assert session.scalar(select(func.count()).select_from(Alert).where(
        Alert.kind == AlertKind.VOUCHER_GUESSING, Alert.subject_id == seeded.hotspot.id)) == 1

"""The citizens' portal pages under ``/portal``: welcome and terms, voucher, phone OTP, status, logout.

Gateway redirect → ``GET /portal/<hotspot>/?<gateway parameters>`` (validated by the hotspot's NAS adapter,
kept in the signed session cookie) → a login form → one login method → a redirect back to the gateway.
Plain HTML without JavaScript; every asset is served from this host. Also the captive-portal probes and
the RFC 8908 API (``application/captive+json``).

A citizen's login is three requests, at hundreds a second after an event ends, so the pages avoid the
app's per-request costs: ``PortalFastLane`` (an ASGI lane ``captive_portal.manifest`` mounts by path) serves these
routes ahead of the app's routing with the app's own session cookie; the hotspot comes from a short-lived
per-process snapshot (``portal.SnapshotCache``), so only the form posts touch the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter
from jinja2 import Environment
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from captive_portal import budgets, decisions, i18n, sms
from captive_portal import portal as portal_service
from captive_portal.gateways import Completion, GatewayContext, default_adapters
from captive_portal.login_methods import (
    LoginContext,
    LoginRefused,
    LoginResult,
    RefusalReason,
    login_with_terms,
    login_with_voucher,
    request_otp,
    verify_otp,
)
from captive_portal.login_methods.base import PolicySnapshot, mark_grant_used
from captive_portal.login_methods.otp import SmsSender
from captive_portal.login_methods.voucher import ALPHABET, normalise_code
from netmgr.db import session_scope
from netmgr.errors import NotFound, SmsError, SmsRejected, ValidationFailed
from netmgr.services import sms_gateways
from netmgr.settings import Settings
from netmgr.sms.guard import GuardedSender
from netmgr.state import AppState

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).parent / "static"
SESSION_KEY = "captive_portal"
CSRF_KEY = "captive_portal_csrf"
CAPTIVE_JSON = "application/captive+json"
ADAPTERS = default_adapters()
GATEWAY_PARAMS = ("fas", "mac", "link-login-only", "link-login")
NO_STORE = {"Cache-Control": "no-store"}
CAPTIVE_NO_STORE = {"Cache-Control": "private, no-store"}


def _(message: str) -> str:
    """Marks a msgid for extraction; translated when rendered."""
    return message


SMS_NOT_SENT = _("We could not send the SMS right now. Please use another way to log in below, or try again in a "
                 "few minutes.")
SMS_NUMBER_REFUSED = _("The SMS service did not accept this number. Check the number, or use another way to log in "
                       "below.")


OFFER_OTHER_METHODS = frozenset({RefusalReason.SMS_UNAVAILABLE, RefusalReason.VOUCHERS_PAUSED})
"""Refusals of a whole method at a hotspot (a budget is spent): the page lists the other ways in."""


# --- plumbing ----------------------------------------------------------------------------------------------


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.netmgr
    return state


def _settings(request: Request) -> Settings:
    return _state(request).settings


def _envs(request: Request) -> dict[str, Environment]:
    envs: dict[str, Environment] | None = getattr(request.app.state, "captive_portal_envs", None)
    if envs is None:
        envs = i18n.make_environments()
        request.app.state.captive_portal_envs = envs
    return envs


def _snapshots(request: Request) -> portal_service.SnapshotCache:
    cache: portal_service.SnapshotCache | None = getattr(request.app.state, "captive_portal_snapshots", None)
    if cache is None:
        cache = portal_service.SnapshotCache()
        request.app.state.captive_portal_snapshots = cache
    return cache


def _hotspot(request: Request, slug: str) -> portal_service.HotspotSnapshot:
    """The open hotspot ``slug`` from this process's snapshot cache (read from the database at most every few
    seconds). Raises NotFound."""
    return _snapshots(request).get(_state(request).session_factory, slug)


def sms_sender(request: Request) -> SmsSender:
    """The app's SMS sender, built once from ``portal.sms_sender`` and ``sms`` and paused after failures in a row
    (tests may put a sender of their own in ``app.state.captive_portal_sms``)."""
    sender: SmsSender | None = getattr(request.app.state, "captive_portal_sms", None)
    if sender is None:
        sender = sms.portal_sender(_settings(request))
        request.app.state.captive_portal_sms = sender
    return sender


def _db(request: Request) -> AbstractContextManager[Session]:
    """A session committed on success and rolled back on error."""
    return session_scope(_state(request).session_factory)


def _now() -> datetime:
    return datetime.now(UTC)


def _client_ip(request: Request) -> str:
    """The HTTP client as netmgr sees it: uvicorn replaces it with the forwarded address only for the
    proxies it trusts (``--forwarded-allow-ips``), so a browser cannot choose it."""
    return request.client.host if request.client else ""


def _portal_state(request: Request, slug: str) -> dict[str, Any]:
    """This browser's portal state for ``slug`` (gateway context, login, OTP challenge), or empty."""
    data = request.session.get(SESSION_KEY)
    if isinstance(data, dict) and data.get("slug") == slug:
        return dict(data)
    return {"slug": slug}


def _save_state(request: Request, data: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = data


def _gateway(data: dict[str, Any]) -> GatewayContext | None:
    raw = data.get("gw")
    if not isinstance(raw, dict):
        return None
    try:
        return GatewayContext.from_dict(raw)
    except (KeyError, TypeError, ValueError):
        return None


def _csrf(request: Request) -> str:
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(24)
        request.session[CSRF_KEY] = token
    return token


def _csrf_ok(request: Request, form: Any) -> bool:
    expected = request.session.get(CSRF_KEY)
    sent = form.get("csrf_token")
    return isinstance(expected, str) and isinstance(sent, str) and bool(expected) and secrets.compare_digest(
        expected, sent)


def _language(request: Request, default: str | None) -> str:
    return i18n.choose_language(query=request.query_params.get("lang"),
                                cookie=request.cookies.get(i18n.LANG_COOKIE), default=default)


def _render(request: Request, lang: str, template: str, *, status_code: int = 200,
            headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    env = _envs(request)[lang]
    html = env.get_template(template).render({"csrf_token": _csrf(request), "error": "", **context})
    return _html_response(request, html, status_code=status_code, headers=headers)


CSRF_SLOT = "csrf-slot-" + secrets.token_hex(8)
"""Stands for the browser's CSRF token in a cached page (URL-safe, so autoescaping leaves it alone)."""


def _render_cached(request: Request, p: portal_service.HotspotSnapshot, lang: str, template: str,
                   key: tuple[Any, ...], **context: Any) -> HTMLResponse:
    """Render a page that differs between browsers only in the CSRF token once per snapshot and ``key``."""
    cache: dict[tuple[Any, ...], tuple[portal_service.HotspotSnapshot, str]] | None = getattr(
        request.app.state, "captive_portal_pages", None)
    if cache is None:
        cache = request.app.state.captive_portal_pages = {}
    full_key = (p.slug, lang, template, *key)
    hit = cache.get(full_key)
    if hit is None or hit[0] is not p:
        env = _envs(request)[lang]
        html = env.get_template(template).render({"error": "", **context, "csrf_token": CSRF_SLOT})
        if len(cache) >= 1000:
            cache.clear()
        hit = cache[full_key] = (p, html)
    return _html_response(request, hit[1].replace(CSRF_SLOT, _csrf(request)))


def _html_response(request: Request, html: str, *, status_code: int = 200,
                   headers: dict[str, str] | None = None) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status_code, headers={**NO_STORE, **(headers or {})})
    chosen = i18n.normalise(request.query_params.get("lang"))
    if chosen:
        response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", httponly=True,
                            secure=_settings(request).portal_cookie_secure)
    return response


def _refusal_text(lang: str, exc: LoginRefused) -> str:
    return decisions.message(exc.reason, lang, retry_after_s=exc.retry_after_s)


def _page_vars(p: portal_service.HotspotSnapshot, lang: str) -> dict[str, Any]:
    return {"brand": p.branding, "hotspot_slug": p.slug, "hotspot": p}


def _login_context(request: Request, p: portal_service.HotspotSnapshot, gw: GatewayContext, lang: str,
                   accepted: bool) -> LoginContext:
    policy: PolicySnapshot | None = p.policy
    return LoginContext(hotspot=p, config=p, portal=_settings(request).portal, mac=gw.mac, ip=gw.ip,
                        language=lang, now=_now(), timezone=_settings(request).timezone, accepted_terms=accepted,
                        policy=policy,
                        source_ip=_client_ip(request), gateway_hosts=p.gateway_hosts)


def _status_url(request: Request, slug: str) -> str:
    return f"{_settings(request).portal.base_url.rstrip('/')}/{slug}/status"


def _complete(request: Request, session: Session, p: portal_service.HotspotSnapshot, gw: GatewayContext,
              result: LoginResult, data: dict[str, Any]) -> Response:
    """Remember the login in the cookie and send the browser back to its gateway to be let through."""
    adapter = ADAPTERS.get(gw.kind)
    completion: Completion = adapter.complete(gw, result.credentials, p.registration,
                                              after_login_url=_status_url(request, p.slug))
    if gw.kind == "opennds":
        mark_grant_used(session, result.credentials.username, _now())
    data.pop("otp", None)
    data["login"] = {"user": result.credentials.username, "sub": result.subscriber_id, "policy": result.policy_id,
                     "method": result.method.value, "at": _now().isoformat()}
    _save_state(request, data)
    return RedirectResponse(completion.location, status_code=303, headers=NO_STORE)


def _not_found(request: Request) -> Response:
    lang = _language(request, None)
    brand = portal_service.Branding(title="Wi-Fi", primary=portal_service.DEFAULT_PRIMARY, on_primary="#ffffff",
                                    background="#ffffff", text="#1a1a1a", has_logo=False, welcome={}, operator="")
    return _render(request, lang, "portal/message.html", status_code=404, brand=brand, hotspot_slug="",
                   title=i18n.gettext(_("Hotspot not found"), lang), heading=i18n.gettext(_("Hotspot not found"), lang),
                   message=i18n.gettext(_("This Wi-Fi hotspot does not exist or is closed right now."), lang))


# --- pages -------------------------------------------------------------------------------------------------


def stylesheet(request: Request) -> Response:
    css, etag = _css()
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(css, media_type="text/css", headers={"ETag": etag, "Cache-Control": "public, max-age=86400"})


@lru_cache(maxsize=1)
def _css() -> tuple[bytes, str]:
    css = (STATIC_DIR / "portal.css").read_bytes()
    return css, '"' + hashlib.sha256(css).hexdigest()[:16] + '"'


def portal_index(request: Request) -> Response:
    """Where probes and lost browsers land: the only open hotspot, or a list to choose from."""
    with _db(request) as session:
        hotspots = portal_service.open_hotspots(session)
        if len(hotspots) == 1:
            # A card of a batch valid on every hotspot opens the portal's start page with its code.
            code = display_prefill(request.query_params.get("code", ""))
            target = f"/portal/{hotspots[0].slug}/" + (f"voucher?code={code}" if code else "")
            return RedirectResponse(target, status_code=302, headers=NO_STORE)
        lang = _language(request, None)
        brand = portal_service.Branding(title="Wi-Fi", primary=portal_service.DEFAULT_PRIMARY, on_primary="#ffffff",
                                        background="#ffffff", text="#1a1a1a", has_logo=False, welcome={}, operator="")
        return _render(request, lang, "portal/index.html", brand=brand, hotspot_slug="",
                       title=i18n.gettext(_("Public Wi-Fi"), lang), hotspots=hotspots)


def _welcome_vars(p: portal_service.HotspotSnapshot, lang: str, gw: GatewayContext | None) -> dict[str, Any]:
    return {"title": i18n.gettext(_("Welcome"), lang),
            "welcome_title": p.branding.welcome.get(f"title_{lang}") or p.branding.title,
            "welcome_text": p.branding.welcome.get(lang, ""), "gateway_known": gw is not None,
            "methods": list(p.login_methods), "free_note": _free_note(p, lang)}


async def welcome(request: Request) -> Response:
    """The gateway's redirect target and the welcome page: terms and the hotspot's ways in."""
    slug = request.path_params["slug"]
    try:
        p = _hotspot(request, slug)
    except NotFound:
        return _not_found(request)
    lang = _language(request, p.default_language)
    data = _portal_state(request, slug)
    if any(k in request.query_params for k in GATEWAY_PARAMS):
        try:
            parsed = ADAPTERS.get(p.gateway_kind).parse(request.query_params, p.registration)
        except ValidationFailed as exc:
            log.info("hotspot %s: bad gateway redirect (%s) from %s", slug, exc.message, _client_ip(request))
            return _render(request, lang, "portal/message.html", status_code=400, **_page_vars(p, lang),
                           title=p.branding.title, heading=i18n.gettext(_("Something went wrong"), lang),
                           message=decisions.message(RefusalReason.NO_GATEWAY, lang))
        data = {"slug": slug, "gw": parsed.to_dict()}
        _save_state(request, data)
        target = f"/portal/{slug}/" + (f"?lang={lang}" if request.query_params.get("lang") else "")
        return RedirectResponse(target, status_code=303, headers=NO_STORE)
    gw = _gateway(data)
    error = ""
    if gw is not None and gw.gateway_error:
        error = i18n.gettext(_("The hotspot could not let you in. Please try again."), lang)
    return _render_cached(request, p, lang, "portal/welcome.html", (gw is not None, error), **_page_vars(p, lang),
                          **_welcome_vars(p, lang, gw), error=error)


def _free_note(p: portal_service.HotspotSnapshot, lang: str) -> str:
    summary = p.free_notes.get(lang, "")
    text = i18n.gettext(_("Free internet for everyone: %(summary)s per day."), lang)
    return text % {"summary": summary} if summary else ""


async def terms_page(request: Request) -> Response:
    v = _visit(request)
    if isinstance(v, Response):
        return v
    p, lang = v.p, v.lang
    text = p.terms_text or i18n.gettext(DEFAULT_TERMS, lang)
    paragraphs = [para.strip() for para in text.split("\n\n") if para.strip()]
    return _render(request, lang, "portal/terms.html", **_page_vars(p, lang),
                   title=i18n.gettext(_("Terms of use"), lang), terms_version=p.terms_version,
                   terms_paragraphs=paragraphs)


DEFAULT_TERMS = _(
    "This free Wi-Fi is provided by the regional government for everyone. Use it lawfully and fairly: no "
    "attacks on other users or systems, no illegal content, no reselling.\n\n"
    "Your time and data are limited per day so that everyone gets a share. The connection is provided as it "
    "is, without guarantees.\n\n"
    "To run the service we record your device's hardware address, when you connected and how much data you "
    "used. See \"Privacy and your data\" for how long we keep it and how to have it erased."
)


async def privacy_page(request: Request) -> Response:
    v = _visit(request)
    if isinstance(v, Response):
        return v
    p, lang = v.p, v.lang
    gw = _gateway(_portal_state(request, v.slug))
    paragraphs = [para.strip() for para in p.privacy_text.split("\n\n") if para.strip()]
    return _render(request, lang, "portal/privacy.html", **_page_vars(p, lang),
                   title=i18n.gettext(_("Privacy and your data"), lang), privacy_paragraphs=paragraphs,
                   terms_version=p.terms_version,
                   retention_days=_settings(request).portal.retention_days,
                   operator=p.branding.operator or "Diskominfo", mac=gw.mac if gw else "")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _refused_page(request: Request, p: portal_service.HotspotSnapshot, lang: str, template: str,
                  exc: LoginRefused, **context: Any) -> Response:
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
    context = {"methods": list(p.login_methods), **context}
    return _render(request, lang, template, status_code=exc.http_status, headers=headers, **_page_vars(p, lang),
                   error=_refusal_text(lang, exc), offer_others=exc.reason in OFFER_OTHER_METHODS, **context)


def _csrf_failed(request: Request, p: portal_service.HotspotSnapshot, lang: str) -> Response:
    return _render(request, lang, "portal/message.html", status_code=403, **_page_vars(p, lang),
                   title=p.branding.title, heading=i18n.gettext(_("Page expired"), lang),
                   message=i18n.gettext(_("This page was open too long. Go back to the start and try again."), lang))


_T = TypeVar("_T")


async def _login_step(request: Request, step: Callable[[Session], _T], *, waits: bool = False) -> _T | LoginRefused:
    """Run one login method's database work in one transaction, off the event loop.

    A refusal is returned, not raised, after its transaction is committed: failed attempts stay on record
    for the brute-force limits; any other error rolls the transaction back. On SQLite the step runs on the
    event loop itself: it is a few hundred microseconds of in-process work, and the hop to a thread would cost
    about as much again; a step that ``waits`` for the network (sending an SMS) always runs in a thread.
    """
    def run() -> _T | LoginRefused:
        with _db(request) as session:
            try:
                return step(session)
            except LoginRefused as exc:
                session.commit()
                return exc

    if _state(request).engine.dialect.name == "sqlite" and not waits:
        return run()
    return await run_in_threadpool(run)


@dataclass(frozen=True)
class _Visit:
    """A citizen on a hotspot's portal page: the hotspot's slug and snapshot, and the page's language."""

    slug: str
    p: portal_service.HotspotSnapshot
    lang: str


def _visit(request: Request) -> _Visit | Response:
    """The hotspot the URL names and the page's language, or the not-found page."""
    slug = request.path_params["slug"]
    try:
        p = _hotspot(request, slug)
    except NotFound:
        return _not_found(request)
    return _Visit(slug, p, _language(request, p.default_language))


async def _posted(request: Request) -> tuple[_Visit, dict[str, str]] | Response:
    """A form POST: the visit and the form, or the page that says why not (unknown hotspot, expired form)."""
    form = await _form(request)
    visit = _visit(request)
    if isinstance(visit, Response):
        return visit
    if not _csrf_ok(request, form):
        return _csrf_failed(request, visit.p, visit.lang)
    return visit, form


async def _login(request: Request, v: _Visit, gw: GatewayContext | None,
                  step: Callable[[Session, GatewayContext], Response], template: str,
                  refused: Callable[[], dict[str, Any]], *, waits: bool = False) -> Response:
    """Run a login method's ``step`` for the device the gateway sent; a refusal re-renders ``template`` with
    the reason and ``refused()``'s variables."""
    def run(session: Session) -> Response:
        if gw is None:
            raise LoginRefused(RefusalReason.NO_GATEWAY)
        return step(session, gw)

    outcome = await _login_step(request, run, waits=waits)
    if isinstance(outcome, LoginRefused):
        return _refused_page(request, v.p, v.lang, template, outcome, **refused())
    return outcome


async def accept_terms(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    v, form = posted
    data = _portal_state(request, v.slug)
    gw = _gateway(data)

    def step(session: Session, gw: GatewayContext) -> Response:
        result = login_with_terms(session, _login_context(request, v.p, gw, v.lang, form.get("accept") == "yes"))
        return _complete(request, session, v.p, gw, result, data)

    return await _login(request, v, gw, step, "portal/welcome.html", lambda: _welcome_vars(v.p, v.lang, gw))


async def voucher_page(request: Request) -> Response:
    v = _visit(request)
    if isinstance(v, Response):
        return v
    # A printed card's QR code opens this page with ?code=: the code is only filled into the form (cleaned to
    # the voucher alphabet); nothing is tried until the citizen presses Connect, so every guess still goes
    # through submit_voucher and its budgets.
    code = display_prefill(request.query_params.get("code", ""))
    return _render(request, v.lang, "portal/voucher.html", **_page_vars(v.p, v.lang),
                   title=i18n.gettext(_("Enter your voucher"), v.lang), code=code)


def display_prefill(raw: str) -> str:
    """A code from the URL as the form shows it (``k7m2qx9p`` → ``K7M2-QX9P``); empty if it is not one."""
    code = normalise_code(raw[:64])
    if not 6 <= len(code) <= 16 or any(ch not in ALPHABET for ch in code):
        return ""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


async def submit_voucher(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    v, form = posted
    data = _portal_state(request, v.slug)
    code = form.get("code", "")[:64]

    def step(session: Session, gw: GatewayContext) -> Response:
        context = _login_context(request, v.p, gw, v.lang, form.get("accept") == "yes")
        return _complete(request, session, v.p, gw, login_with_voucher(session, context, code), data)

    return await _login(request, v, _gateway(data), step, "portal/voucher.html",
                        lambda: {"title": i18n.gettext(_("Enter your voucher"), v.lang), "code": code})


async def otp_page(request: Request) -> Response:
    v = _visit(request)
    if isinstance(v, Response):
        return v
    return _render(request, v.lang, "portal/otp_request.html", **_page_vars(v.p, v.lang),
                   title=i18n.gettext(_("Log in with your phone"), v.lang), phone="")


async def send_otp(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    v, form = posted
    data = _portal_state(request, v.slug)
    phone = form.get("phone", "")[:32]
    sender = sms_sender(request)
    secret_key = _settings(request).secret_key.get_secret_value()

    def step(session: Session, gw: GatewayContext) -> Response:
        sent = request_otp(session, _login_context(request, v.p, gw, v.lang, form.get("accept") == "yes"), phone,
                           sender=sender, secret_key=secret_key)
        data["otp"] = {"id": sent.challenge_id, "phone": sent.masked_phone}
        _save_state(request, data)
        return RedirectResponse(f"/portal/{v.slug}/otp/verify", status_code=303, headers=NO_STORE)

    def form_vars() -> dict[str, Any]:
        return {"title": i18n.gettext(_("Log in with your phone"), v.lang), "phone": phone}

    gw = _gateway(data)
    try:
        response = await _login(request, v, gw, step, "portal/otp_request.html", form_vars, waits=True)
    except SmsError as exc:
        # The request's transaction (challenge, budget counters) is rolled back; the failure is counted apart.
        rejected = isinstance(exc, SmsRejected)
        # A number the gateway refuses counts as a failed login of the source address, which bounds how often
        # one client can make netmgr ask the gateway; an unavailable gateway is not the citizen's failure.
        visit = _login_context(request, v.p, gw, v.lang, True) if rejected and gw is not None else None
        await run_in_threadpool(_record_sms, request, exc, visit)
        return _render(request, v.lang, "portal/otp_request.html", status_code=422 if rejected else 503,
                       headers=None if rejected else {"Retry-After": "60"}, **_page_vars(v.p, v.lang), **form_vars(),
                       error=i18n.gettext(SMS_NUMBER_REFUSED if rejected else SMS_NOT_SENT, v.lang),
                       offer_others=True, methods=list(v.p.login_methods))
    if isinstance(sender, GuardedSender) and sender.take_recovery():
        await run_in_threadpool(_record_sms, request, None, None)
    return response


def _record_sms(request: Request, error: SmsError | None, refused: LoginContext | None) -> None:
    """Count a failed send on the SMS gateway alert (and a refused number against the citizen's source address),
    or resolve the alert after a send went through; in a transaction of its own."""
    with _db(request) as session:
        if error is None:
            sms_gateways.record_recovery(session, gateway=_settings(request).portal.sms_sender, now=_now())
            return
        sms_gateways.record_failure(session, error=error, now=_now())
        if refused is not None:
            budgets.count_source_failure(session, refused)


async def otp_verify_page(request: Request) -> Response:
    v = _visit(request)
    if isinstance(v, Response):
        return v
    otp = _portal_state(request, v.slug).get("otp")
    if not isinstance(otp, dict):
        return RedirectResponse(f"/portal/{v.slug}/otp", status_code=303, headers=NO_STORE)
    return _render(request, v.lang, "portal/otp_verify.html", **_page_vars(v.p, v.lang),
                   title=i18n.gettext(_("Enter the code"), v.lang), masked_phone=otp.get("phone", ""),
                   minutes=max(1, _settings(request).portal.otp_ttl_s // 60))


async def verify_code(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    v, form = posted
    data = _portal_state(request, v.slug)
    otp = data.get("otp")
    secret_key = _settings(request).secret_key.get_secret_value()

    def step(session: Session, gw: GatewayContext) -> Response:
        if not isinstance(otp, dict) or not isinstance(otp.get("id"), int):
            raise LoginRefused(RefusalReason.OTP_EXPIRED)
        result = verify_otp(session, _login_context(request, v.p, gw, v.lang, True), otp["id"],
                            form.get("code", "")[:16], secret_key=secret_key)
        return _complete(request, session, v.p, gw, result, data)

    return await _login(request, v, _gateway(data), step, "portal/otp_verify.html", lambda: {
        "title": i18n.gettext(_("Enter the code"), v.lang),
        "masked_phone": otp.get("phone", "") if isinstance(otp, dict) else "",
        "minutes": max(1, _settings(request).portal.otp_ttl_s // 60)})


def _duration_text(seconds: int | None, lang: str) -> str:
    if seconds is None:
        return i18n.gettext(_("Unlimited"), lang)
    hours, rest = divmod(max(0, seconds), 3600)
    minutes = rest // 60
    return i18n.gettext(_("%(hours)s h %(minutes)s min"), lang) % {"hours": hours, "minutes": minutes}


def _bytes_text(octets: int | None, lang: str) -> str:
    if octets is None:
        return i18n.gettext(_("Unlimited"), lang)
    from babel.numbers import format_decimal

    if octets >= 10**9:
        return f"{format_decimal(round(octets / 10**9, 2), locale=lang)} GB"
    return f"{format_decimal(round(octets / 10**6, 1), locale=lang)} MB"


def status_page(request: Request) -> Response:
    """Time and data left for this device (after login, or whenever the citizen comes back)."""
    slug = request.path_params["slug"]
    try:
        p = _hotspot(request, slug)
    except NotFound:
        return _not_found(request)
    with _db(request) as session:
        lang = _language(request, p.default_language)
        data = _portal_state(request, slug)
        gw = _gateway(data)
        raw_login = data.get("login")
        login: dict[str, Any] = raw_login if isinstance(raw_login, dict) else {}
        left = portal_service.remaining_for(session, hotspot=p, client_ip=_client_ip(request),
                                            subscriber_id=login.get("sub"), policy_id=login.get("policy"),
                                            now=_now(), timezone=_settings(request).timezone)
    if gw is None and not left.connected:
        return RedirectResponse(f"/portal/{slug}/", status_code=303, headers=NO_STORE)
    speed = ""
    if left.rate_down_kbps:
        speed = f"{left.rate_down_kbps / 1000:g} Mbps"
    return _render(request, lang, "portal/status.html", **_page_vars(p, lang),
                   title=i18n.gettext(_("Your access"), lang), connected=left.connected or bool(login),
                   time_left=_duration_text(left.seconds, lang), data_left=_bytes_text(left.octets, lang),
                   speed=speed, original_url=gw.original_url if gw else "")


async def logout(request: Request) -> Response:
    """Forget the login here and end it at the gateway (MikroTik: its logout page)."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    v = posted[0]
    p, lang = v.p, v.lang
    data = _portal_state(request, v.slug)
    gw = _gateway(data)
    data.pop("login", None)
    _save_state(request, data)
    if gw is not None and gw.kind == "mikrotik":
        logout_url = gw.login_url.rsplit("/", 1)[0] + "/logout"
        return RedirectResponse(logout_url, status_code=303, headers=NO_STORE)
    return _render(request, lang, "portal/message.html", **_page_vars(p, lang),
                   title=i18n.gettext(_("Logged out"), lang), heading=i18n.gettext(_("Logged out"), lang),
                   message=i18n.gettext(_("You are logged out of the portal. Thank you for using the "
                                          "public Wi-Fi."), lang))


def logo(request: Request) -> Response:
    try:
        p = _hotspot(request, request.path_params["slug"])
    except NotFound:
        return Response(status_code=404)
    if not p.has_logo:
        return Response(status_code=404)
    with _db(request) as session:
        found = portal_service.logo_of(session, p.id)
    if found is None:
        return Response(status_code=404)
    return Response(found[0], media_type=found[1],
                    headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


# --- captive-portal detection ------------------------------------------------------------------------------


def captive_api(request: Request) -> Response:
    """RFC 8908 Captive Portal API; its URL is what DHCP option 114 (RFC 8910) hands the client.

    The client is identified by the address netmgr sees (see ``portal.captive_state``), so the answer is
    private to it and never cached (RFC 8908 §5).
    """
    slug = request.path_params["slug"]
    try:
        p = _hotspot(request, slug)
    except NotFound:
        return Response(status_code=404, headers=CAPTIVE_NO_STORE)
    with _db(request) as session:
        state = portal_service.captive_state(session, hotspot_id=p.id, client_ip=_client_ip(request))
    body: dict[str, Any] = {"captive": state.captive,
                            "user-portal-url": f"{_settings(request).portal.base_url.rstrip('/')}/{slug}/"}
    if p.branding.venue_info_url:
        body["venue-info-url"] = p.branding.venue_info_url
    if not state.captive:
        if state.seconds_remaining is not None:
            body["seconds-remaining"] = state.seconds_remaining
        if state.bytes_remaining is not None:
            body["bytes-remaining"] = state.bytes_remaining
        body["can-extend-session"] = state.can_extend_session
    return Response(json.dumps(body), media_type=CAPTIVE_JSON, headers=CAPTIVE_NO_STORE)


PROBE_SUCCESS: dict[str, tuple[int, str, str]] = {
    "/generate_204": (204, "", "text/plain"),  # Android, Chrome OS
    "/gen_204": (204, "", "text/plain"),
    "/hotspot-detect.html": (200, "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>",
                             "text/html"),  # Apple
    "/library/test/success.html": (200, "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>",
                                   "text/html"),
    "/connecttest.txt": (200, "Microsoft Connect Test", "text/plain"),  # Windows 10+
    "/ncsi.txt": (200, "Microsoft NCSI", "text/plain"),
    "/success.txt": (200, "success\n", "text/plain"),  # Firefox
    "/check_network_status.txt": (200, "NetworkManager is online\n", "text/plain"),  # GNOME
}


def _probe(request: Request) -> Response:
    """An operating system asking "am I online?": yes for a device with an open session, else the portal."""
    path = request.url.path
    with _db(request) as session:
        online = portal_service.online_by_ip(session, _client_ip(request))
    if online:
        status, body, media = PROBE_SUCCESS[path]
        return Response(body, status_code=status, media_type=media, headers=NO_STORE) if status != 204 \
            else Response(status_code=204, headers=NO_STORE)
    return RedirectResponse("/portal/", status_code=302, headers=NO_STORE)


# Plain Starlette routes (the endpoints take the request only): served by PortalFastLane, and by the app's
# router when the fast lane is not installed. Sync endpoints (those that query the database) run in the
# thread pool; the async ones need the database only for a login method's step, which runs there too.
_ROUTES: list[tuple[str, Callable[[Request], Any], str]] = [
    ("/portal/static/portal.css", stylesheet, "GET"),
    ("/portal/", portal_index, "GET"),
    ("/portal", portal_index, "GET"),
    ("/portal/{slug}/", welcome, "GET"),
    ("/portal/{slug}/terms", terms_page, "GET"),
    ("/portal/{slug}/terms", accept_terms, "POST"),
    ("/portal/{slug}/privacy", privacy_page, "GET"),
    ("/portal/{slug}/voucher", voucher_page, "GET"),
    ("/portal/{slug}/voucher", submit_voucher, "POST"),
    ("/portal/{slug}/otp", otp_page, "GET"),
    ("/portal/{slug}/otp", send_otp, "POST"),
    ("/portal/{slug}/otp/verify", otp_verify_page, "GET"),
    ("/portal/{slug}/otp/verify", verify_code, "POST"),
    ("/portal/{slug}/status", status_page, "GET"),
    ("/portal/{slug}/logout", logout, "POST"),
    ("/portal/{slug}/logo", logo, "GET"),
    ("/portal/api/captive/{slug}", captive_api, "GET"),
    *((path, _probe, "GET") for path in PROBE_SUCCESS),
]
for _path, _endpoint, _method in _ROUTES:
    router.add_route(_path, _endpoint, methods=[_method], include_in_schema=False)


class PortalFastLane:
    """ASGI middleware that serves the portal's routes itself, ahead of the app's middleware and routing.

    The app matches a path against every admin and API route and runs several middleware layers; a
    citizen's three requests need none of it. The lane wraps the portal routes in the app's own
    ``SessionMiddleware`` (same cookie, key and flags, taken from the app's middleware list), so a cookie set
    here is read there and back. Anything that is not a portal route goes on to the app unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[BaseRoute] = []
        self._lane: ASGIApp | None = None

    def _build(self, scope: Scope) -> ASGIApp:
        routes = [r for r in router.routes if r.path.startswith("/portal") or r.path in PROBE_SUCCESS]  # type: ignore[attr-defined]
        self._routes = routes

        async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
            route: BaseRoute = scope["captive_portal_route"]
            await route.handle(scope, receive, send)

        lane: ASGIApp = dispatch
        app = scope.get("app")
        for middleware in getattr(app, "user_middleware", []):
            if middleware.cls is SessionMiddleware:
                # Same cookie, but ``Secure`` only when the portal is served over https (see portal_cookie_secure).
                secure = app.state.netmgr.settings.portal_cookie_secure  # type: ignore[union-attr]
                lane = SessionMiddleware(lane, *middleware.args, **{**middleware.kwargs, "https_only": secure})
        return lane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith("/portal") or path in PROBE_SUCCESS):
            await self.app(scope, receive, send)
            return
        if self._lane is None:
            self._lane = self._build(scope)
        for route in self._routes:
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                scope.update(child_scope)
                scope["captive_portal_route"] = route
                await self._lane(scope, receive, send)
                return
        await self.app(scope, receive, send)

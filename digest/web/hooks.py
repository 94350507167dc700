"""Provider webhooks under /hooks/: SES (through SNS), SendGrid, Postmark, Mailgun.

Each checks that the post comes from its provider (:mod:`digest.bounces.providers`),
reads every event before recording any, and hands them to the one intake,
:func:`digest.bounces.intake.record`, in one transaction. A provider whose secret is not
configured has no door (404). Signatures, not cookies, are the authority here, so these
posts carry no CSRF token (none of the app's CSRF checks is on these routes); every
answer is JSON.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from digest.bounces import intake
from digest.bounces.providers import Forbidden, HookError, Report, load_json, mailgun, postmark, sendgrid, ses
from digest.bounces.providers.sns import Sns
from digest.settings import Settings
from digest.web.deps import db_session

#: Largest body taken: SES notifications stop at 256 KB, SendGrid posts its batches at 768 KB.
MAX_BODY_BYTES = 1024 * 1024

router = APIRouter(prefix="/hooks")
log = logging.getLogger(__name__)


async def body(request: Request) -> bytes:
    """The raw body (signatures are over its bytes), refused past MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_BODY_BYTES:
            raise HTTPException(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return bytes(received)


def _settings(request: Request, configured) -> Settings:
    settings: Settings = request.app.state.settings
    if not configured(settings):
        raise HTTPException(404, "Not Found")
    return settings


def _record(session: Session, settings: Settings, source: str, reports: list[Report]) -> dict:
    # Each report commits on its own (intake.record): a provider retrying the whole post
    # finds the ones already kept by their keys, so nothing counts twice.
    for report in reports:
        intake.record(session, settings, report.findings, source=source, report_key=report.key)
    return {"ok": True, "events": len(reports)}


@router.post("/ses")
def ses_hook(request: Request, raw: bytes = Depends(body), session: Session = Depends(db_session)):
    settings = _settings(request, lambda s: s.ses_topic_arns)
    message = load_json(raw, "SNS message")
    sns: Sns = request.app.state.sns
    sns.verify(message)
    if message.get("TopicArn") not in settings.ses_topic_arns:
        raise Forbidden(f"SNS topic {message.get('TopicArn')!r} is not in DIGEST_SES_TOPIC_ARNS")
    if message["Type"] == "SubscriptionConfirmation":
        sns.confirm(message)
        return {"ok": True, "confirmed": message["TopicArn"]}
    if message["Type"] == "UnsubscribeConfirmation":
        return {"ok": True}
    return _record(session, settings, "ses", ses.reports(message))


@router.post("/sendgrid")
def sendgrid_hook(request: Request, raw: bytes = Depends(body), session: Session = Depends(db_session)):
    settings = _settings(request, lambda s: s.sendgrid_webhook_key)
    sendgrid.verify(settings.sendgrid_webhook_key, request.headers.get(sendgrid.SIGNATURE_HEADER),
                    request.headers.get(sendgrid.TIMESTAMP_HEADER), raw, time.time())
    return _record(session, settings, "sendgrid", sendgrid.reports(raw))


@router.post("/postmark")
def postmark_hook(request: Request, raw: bytes = Depends(body), session: Session = Depends(db_session)):
    settings = _settings(request, lambda s: s.postmark_webhook_user)
    postmark.check_credentials(request.headers.get("authorization"), settings.postmark_webhook_user,
                               settings.postmark_webhook_password)
    return _record(session, settings, "postmark", postmark.reports(raw))


@router.post("/mailgun")
def mailgun_hook(request: Request, raw: bytes = Depends(body), session: Session = Depends(db_session)):
    settings = _settings(request, lambda s: s.mailgun_webhook_key)
    payload = mailgun.parse(raw)
    mailgun.verify(settings.mailgun_webhook_key, payload, request.app.state.mailgun_tokens)
    return _record(session, settings, "mailgun", mailgun.reports(payload))


def install(app: FastAPI, settings: Settings) -> None:
    app.state.sns = Sns()
    app.state.mailgun_tokens = mailgun.Tokens(settings.shared_redis_url,
                                              f"digest-mailgun-token:{settings.celery_queue}")
    app.include_router(router)

    @app.exception_handler(HookError)
    async def refused(request: Request, exc: HookError):
        # Logged: a wrong key or topic in the settings shows here first, as every post refused.
        log.warning("%s refused (%s): %s", request.url.path, exc.status, exc)
        headers = {"WWW-Authenticate": 'Basic realm="hooks"'} if exc.status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

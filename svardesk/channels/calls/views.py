"""The provider's webhooks (/channels/calls/<key>/…): public, CSRF-exempt, verified by
X-Twilio-Signature against the URL the provider called (BASE_URL + the request's path).

Unverified requests store nothing. A verified one is stored first (its own commit), then
processed by the worker's batch task a moment later (core.bursts; in the request when
processing is not deferred: tests, a trial without a worker); a processing failure is kept on the stored row for the
sweep, and the provider still gets its answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from svardesk.channels.calls import queries, services, twiml
from svardesk.channels.calls.models import CallbackKind
from svardesk.core import bursts
from svardesk.core.machine_endpoints import machine_endpoint


def _refused() -> HttpResponse:
    return HttpResponse("Forbidden\n", status=403, content_type="text/plain; charset=utf-8")


def _handle(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    call_channel = queries.active_channel_by_key(key)
    if call_channel is None:
        return _refused()
    url = f"{services.base_url()}{request.get_full_path()}"
    if not services.signature_is_valid(
        call_channel,
        url=url,
        params=request.POST,
        signature=request.headers.get("X-Twilio-Signature", ""),
        signature_settings=request.headers.get("X-Twilio-Webhooks-Signature-Settings", ""),
    ):
        return _refused()
    callback = services.store_callback(
        call_channel, kind=kind, params=request.POST.dict(), now=timezone.now()
    )
    if not callback.call_sid:
        return HttpResponse(
            "Bad request: the callback has no CallSid.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    if bursts.processing_deferred():
        services.enqueue_processing()  # the worker merges the burst's callbacks in batches
    else:
        services.process_callback_safely(callback.pk)
    if kind == CallbackKind.VOICE:
        return HttpResponse(
            twiml.voice_response(call_channel, request.POST), content_type="text/xml"
        )
    return HttpResponse(status=204)


@machine_endpoint
@csrf_exempt
@require_POST
def voice(request: HttpRequest, key: str) -> HttpResponse:
    return _handle(request, key, CallbackKind.VOICE)


@machine_endpoint
@csrf_exempt
@require_POST
def status(request: HttpRequest, key: str) -> HttpResponse:
    return _handle(request, key, CallbackKind.STATUS)


@machine_endpoint
@csrf_exempt
@require_POST
def recording(request: HttpRequest, key: str) -> HttpResponse:
    return _handle(request, key, CallbackKind.RECORDING)


@machine_endpoint
@csrf_exempt
@require_POST
def transcription(request: HttpRequest, key: str) -> HttpResponse:
    return _handle(request, key, CallbackKind.TRANSCRIPTION)

"""Settings → Integrations → Webhooks (super admins): subscriptions, their signing secret and
their delivery log.

With HTMX an action on a webhook answers its `#webhook` region (a notice on top); without it,
the action redirects to the webhook's page with a message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import super_admin_required
from svardesk.core.shortcuts import found, render_settings
from svardesk.webhooks import queries, services
from svardesk.webhooks.forms import WebhookForm
from svardesk.webhooks.models import EventType, WebhookSubscription

SECTION = "webhooks"


def _partial(request: HttpRequest) -> bool:
    """An HTMX request for the `#webhook` region (not a boosted link or form, which wants the
    whole page, nor a history restore)."""
    htmx: Any = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _event_labels(subscription: WebhookSubscription) -> list[str]:
    labels = dict(EventType.choices)
    return [str(labels.get(kind, kind)) for kind in subscription.event_types or ()]


def _detail_context(subscription: WebhookSubscription, **extra: Any) -> dict[str, Any]:
    return {
        "subscription": subscription,
        "event_labels": _event_labels(subscription),
        "secret": queries.subscription_secret(subscription),
        "deliveries": queries.delivery_log(subscription),
        **extra,
    }


def _render_detail(
    request: HttpRequest, subscription: WebhookSubscription, *, status: int = 200, **extra: Any
) -> HttpResponse:
    context = _detail_context(subscription, **extra)
    if _partial(request):
        return render(request, "webhooks/partials/_webhook.html", context, status=status)
    return render_settings(
        request, "webhooks/detail.html", section=SECTION, context=context, status=status
    )


def _done(request: HttpRequest, subscription: WebhookSubscription, notice: str) -> HttpResponse:
    if _partial(request):
        return _render_detail(request, subscription, notice=notice)
    messages.success(request, notice)
    return redirect("webhooks:detail", subscription.pk)


def _form_values(form: WebhookForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "target_url": data["target_url"],
        "event_types": data["event_types"],
        "property_name": data["property_name"],
    }


def _add_errors(form: WebhookForm, errors: dict[str, str]) -> None:
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, message)


@super_admin_required
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    subscriptions = list(queries.list_subscriptions())
    rows = [(s, _event_labels(s)) for s in subscriptions]
    return render_settings(request, "webhooks/list.html", section=SECTION, context={"rows": rows})


@super_admin_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST) if request.method == "POST" else WebhookForm()
    if form.is_bound and form.is_valid():
        try:
            subscription = services.create_subscription(
                actor=request_user(request), **_form_values(form)
            )
        except services.WebhookValidationError as error:
            _add_errors(form, error.errors)
        else:
            messages.success(
                request,
                _("Webhook %(name)s was created. Give its secret to the receiver.")
                % {"name": subscription.name},
            )
            return redirect("webhooks:detail", subscription.pk)
    return render_settings(
        request,
        "webhooks/form.html",
        section=SECTION,
        context={"form": form, "subscription": None},
        status=422 if form.is_bound else 200,
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = found(queries.get_subscription(pk))
    if request.method == "POST":
        form = WebhookForm(request.POST)
    else:
        form = WebhookForm(
            initial={
                "name": subscription.name,
                "target_url": subscription.target_url,
                "event_types": subscription.event_types,
                "property_name": subscription.property_name,
            }
        )
    if form.is_bound and form.is_valid():
        try:
            services.update_subscription(
                subscription, actor=request_user(request), **_form_values(form)
            )
        except services.WebhookValidationError as error:
            _add_errors(form, error.errors)
        else:
            messages.success(
                request, _("Webhook %(name)s was saved.") % {"name": subscription.name}
            )
            return redirect("webhooks:detail", subscription.pk)
    return render_settings(
        request,
        "webhooks/form.html",
        section=SECTION,
        context={"form": form, "subscription": subscription},
        status=422 if form.is_bound else 200,
    )


@super_admin_required
@require_GET
@never_cache
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, found(queries.get_subscription(pk)))


@super_admin_required
@require_GET
@never_cache
def delivery_log(request: HttpRequest, pk: int) -> HttpResponse:
    """The delivery log alone (its Refresh button)."""
    subscription = found(queries.get_subscription(pk))
    return render(
        request,
        "webhooks/partials/_deliveries.html",
        {"subscription": subscription, "deliveries": queries.delivery_log(subscription)},
    )


@super_admin_required
@require_POST
def webhook_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = found(queries.get_subscription(pk))
    turn_on = request.POST.get("active") == "1"
    services.set_subscription_active(subscription, actor=request_user(request), is_active=turn_on)
    if turn_on:
        notice = _("Webhook %(name)s is on.") % {"name": subscription.name}
    else:
        notice = _("Webhook %(name)s is off: it receives no events.") % {"name": subscription.name}
    return _done(request, subscription, notice)


@super_admin_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = found(queries.get_subscription(pk))
    services.send_test_event(subscription, actor=request_user(request))
    return _done(
        request,
        subscription,
        _("A test event was sent. Its delivery is at the top of the log."),
    )


@super_admin_required
@require_POST
def webhook_new_secret(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = found(queries.get_subscription(pk))
    services.regenerate_secret(subscription, actor=request_user(request))
    return _done(
        request,
        subscription,
        _("The webhook has a new secret. Requests are signed with it from now on."),
    )


@super_admin_required
@require_POST
def delivery_retry(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    subscription = found(queries.get_subscription(pk))
    delivery = found(queries.get_delivery(subscription, delivery_pk))
    if services.retry_delivery(delivery, actor=request_user(request)):
        notice = _("The delivery is being sent again.")
    else:
        notice = _("This delivery was delivered already.")
    return _done(request, subscription, notice)


@super_admin_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = found(queries.get_subscription(pk))
    if request.method == "GET":
        return render_settings(
            request,
            "webhooks/delete.html",
            section=SECTION,
            context={"subscription": subscription},
        )
    name = subscription.name
    services.delete_subscription(subscription, actor=request_user(request))
    messages.success(request, _("Webhook %(name)s was deleted.") % {"name": name})
    return redirect("webhooks:list")

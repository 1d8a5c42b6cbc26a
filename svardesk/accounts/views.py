import asyncio
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from svardesk.accounts import services, throttle
from svardesk.accounts.exceptions import UserValidationError
from svardesk.accounts.forms import EmailLoginForm, PreferencesForm, ResetPasswordForm
from svardesk.accounts.models import DateStyle
from svardesk.accounts.queries import request_user
from svardesk.accounts.regional import language_code_of
from svardesk.core.decorators import workspace_required


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailLoginForm  # type: ignore[assignment]
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if getattr(form, "refused_for_seconds", 0):
            response.status_code = 429
            response["Retry-After"] = str(form.refused_for_seconds)
        return response


_login_page = LoginView.as_view()


async def sign_in(request: HttpRequest) -> HttpResponse:
    """The sign-in page. A POST first waits out its address's slow-down here, awaited on the
    event loop rather than slept in a thread, and before the form touches the database; the
    form then runs as any synchronous view does."""
    if request.method == "POST":
        delay = await throttle.slowdown_before_sign_in(
            address=str(request.POST.get("username", "")), client=throttle.client_of(request)
        )
        if delay:
            await sync_to_async(_release_database_connections)()
            await asyncio.sleep(delay)
    response = await sync_to_async(_login_page)(request)
    return cast(HttpResponse, response)


def _release_database_connections() -> None:
    """Reading the session may already have taken a connection (any cookie makes it read):
    give it back for the wait — to the pool on PostgreSQL — or a handful of slowed sign-ins
    would hold every pooled connection of the process."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = ResetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.update_preferences(
                user,  # type: ignore[arg-type]
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
                date_style=form.cleaned_data["date_style"] or DateStyle.AUTOMATIC,
            )
            translation.activate(language_code_of(user))  # type: ignore[arg-type]
            messages.success(request, _("Your preferences were saved."))
            return redirect("accounts:preferences")
    else:
        form = PreferencesForm(
            initial={
                "language": user.language,  # type: ignore[union-attr]
                "time_zone": user.time_zone,  # type: ignore[union-attr]
                "date_style": user.date_style,  # type: ignore[union-attr]
            }
        )
    context: dict[str, object] = {"form": form, "base_template": "workspace/auth_base.html"}
    if user.can_use_workspace:  # type: ignore[union-attr]
        context["base_template"] = "workspace/workspace.html"
    return render(request, "accounts/preferences.html", context)


@workspace_required
@require_POST
def chat_status(request: HttpRequest) -> HttpResponse:
    """The user menu's Available / Away: always the signed-in user's own status. HTMX gets the
    control back (and the badge beside the user's name, out of band); a plain form post goes
    back to the page it came from."""
    user = request_user(request)
    status = 200
    try:
        services.set_chat_status(user, status=str(request.POST.get("status", "")), actor=user)
    except UserValidationError:
        status = 400  # htmx shows its "That didn't work" toast; the control shows the status
    if getattr(request, "htmx", False):
        return render(
            request,
            "accounts/partials/_chat_status.html",
            {"swap_badge": True},
            status=status,
        )
    if status != 200:
        return HttpResponse(_("Unknown chat status."), status=status, content_type="text/plain")
    back = request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("ticket_views:all")

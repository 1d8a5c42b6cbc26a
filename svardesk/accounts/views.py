from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _

from svardesk.accounts import services
from svardesk.accounts.forms import EmailLoginForm, PreferencesForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailLoginForm  # type: ignore[assignment]
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
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
            )
            translation.activate(form.cleaned_data["language"])
            messages.success(request, _("Your preferences were saved."))
            return redirect("accounts:preferences")
    else:
        form = PreferencesForm(initial={"language": user.language, "time_zone": user.time_zone})  # type: ignore[union-attr]
    context: dict[str, object] = {"form": form, "base_template": "workspace/auth_base.html"}
    if user.can_use_workspace:  # type: ignore[union-attr]
        from svardesk.workspace.context import workspace_context

        context.update(workspace_context(request), base_template="workspace/workspace.html")
    return render(request, "accounts/preferences.html", context)

"""Access checks every workspace and settings view starts with."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

View = Callable[..., HttpResponse]


def workspace_required(view: View) -> View:
    """Signed in, and a super admin or a user with a paid help desk seat (else 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.can_use_workspace:
            raise PermissionDenied(
                _("The help desk is open to super admins and users with a help desk seat.")
            )
        return view(request, *args, **kwargs)

    return wrapper


def super_admin_required(view: View) -> View:
    """Signed in as a super admin (else 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_superuser):
            raise PermissionDenied(_("Only super admins can change help desk settings."))
        return view(request, *args, **kwargs)

    return wrapper


def account_access_required(view: View) -> View:
    """Signed in, may use the workspace, and a super admin or a user with the Account access
    permission (connect channels, move conversations between inboxes) — else 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.can_use_workspace and (user.is_superuser or user.has_account_access)):
            raise PermissionDenied(
                _("Channels are managed by super admins and users with Account access.")
            )
        return view(request, *args, **kwargs)

    return wrapper

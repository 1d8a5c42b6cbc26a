"""Users of the workspace: agents and super admins, who sign in with their email address."""

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: Any) -> "User":
        if not email:
            raise ValueError("Users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> "User":
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> "User":
        fields.update(is_superuser=True, is_staff=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Sign-in's one lookup rule, which the sign-in throttle also counts by.
        from svardesk.accounts.queries import find_user_for_sign_in

        user = find_user_for_sign_in(username or "")
        if user is None:
            raise self.model.DoesNotExist
        return user


class TicketAccess(models.TextChoices):
    ALL = "all", _("All tickets")
    TEAM = "team", _("Tickets of their teams")
    OWN = "own", _("Only their own tickets")


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SWEDISH = "sv", _("Swedish")


class DateStyle(models.TextChoices):
    """How dates and times are written (accounts.regional). Automatic follows the language
    and, for English, the time zone: US zones write the US way, every other the UK way."""

    AUTOMATIC = "auto", _("Automatic (from your language and time zone)")
    SWEDEN = "se", _("Sweden (2026-12-06 06:03)")
    UK = "gb", _("UK (06/12/2026 06:03)")
    US = "us", _("US (12/06/2026 6:03 AM)")


class ChatStatus(models.TextChoices):
    """Whether the user takes live chats while they have the workspace open (the user menu)."""

    AVAILABLE = "available", _("Available")
    AWAY = "away", _("Away")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. `is_superuser` is the product's *super admin*: every permission,
    every ticket, the settings area."""

    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(default=False)  # Django admin site; unused by the product.
    has_seat = models.BooleanField(
        _("help desk seat"),
        default=False,
        help_text=_("A paid help desk seat lets the user work in the help desk workspace."),
    )
    can_manage_views = models.BooleanField(
        _("custom views"), default=False, help_text=_("Create, edit and delete custom views.")
    )
    has_account_access = models.BooleanField(
        _("account access"),
        default=False,
        help_text=_("Move conversations between inboxes, connect channels, chat transcripts."),
    )
    ticket_access = models.CharField(
        _("ticket access"), max_length=8, choices=TicketAccess.choices, default=TicketAccess.ALL
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    date_style = models.CharField(
        _("date and time format"),
        max_length=4,
        choices=DateStyle.choices,
        default=DateStyle.AUTOMATIC,
    )
    primary_team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("main team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="primary_members",
    )
    teams = models.ManyToManyField(
        "teams.Team", through="teams.Membership", related_name="members", blank=True
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # Available for chat only while also present: a workspace socket open (accounts.presence).
    chat_status = models.CharField(
        _("chat status"), max_length=16, choices=ChatStatus.choices, default=ChatStatus.AVAILABLE
    )
    # The ticket page's right sidebar as this user arranged it: {"order": [card keys],
    # "hidden": [property names]} (see tickets.sidebar).
    ticket_sidebar = models.JSONField(_("ticket sidebar layout"), default=dict, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["first_name", "last_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Sign-in looks addresses up ignoring case; two users whose addresses differ only
            # in case would make it ambiguous, whatever path created them.
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ignoring_case",
                violation_error_message=_("A user with this email address already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.email

    @property
    def initials(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p]
        if parts:
            return "".join(p[0] for p in parts).upper()[:2]
        return self.email[:2].upper()

    @property
    def is_super_admin(self) -> bool:
        return bool(self.is_superuser)

    @property
    def can_use_workspace(self) -> bool:
        """Only super admins and users with a paid seat may open the help desk."""
        return self.is_active and (self.is_superuser or self.has_seat)

    @property
    def takes_chats(self) -> bool:
        """May use the workspace and says Available (presence is the other half)."""
        return self.can_use_workspace and self.chat_status == ChatStatus.AVAILABLE

    @property
    def may_manage_views(self) -> bool:
        return self.is_superuser or self.can_manage_views

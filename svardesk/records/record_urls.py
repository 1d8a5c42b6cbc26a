"""The record pages' URLs: `/contacts/<id>/`, `/companies/<id>/`, `/deals/<id>/` and their
create, edit, delete, in-place edit, association and paging routes (names in `records:`)."""

from django.urls import URLPattern, path

from svardesk.records import record_views as views

_PREFIXES = (("contact", "contacts"), ("company", "companies"), ("deal", "deals"))

urlpatterns: list[URLPattern] = [
    path("contacts/<int:pk>/merge/", views.merge_contacts, name="contact_merge"),
]
for _type, _prefix in _PREFIXES:
    _kw = {"object_type": _type}
    urlpatterns += [
        path(f"{_prefix}/new/", views.record_create, _kw, name=f"{_type}_create"),
        path(f"{_prefix}/<int:pk>/", views.record_detail, _kw, name=_type),
        path(f"{_prefix}/<int:pk>/edit/", views.record_edit, _kw, name=f"{_type}_edit"),
        path(f"{_prefix}/<int:pk>/delete/", views.record_delete, _kw, name=f"{_type}_delete"),
        path(f"{_prefix}/<int:pk>/tickets/", views.record_tickets, _kw, name=f"{_type}_tickets"),
        path(f"{_prefix}/<int:pk>/timeline/", views.record_timeline, _kw, name=f"{_type}_timeline"),
        path(
            f"{_prefix}/<int:pk>/properties/<slug:name>/",
            views.edit_property,
            _kw,
            name=f"{_type}_property",
        ),
        path(
            f"{_prefix}/<int:pk>/associations/add/",
            views.add_association,
            _kw,
            name=f"{_type}_associate",
        ),
        path(
            f"{_prefix}/<int:pk>/associations/remove/",
            views.remove_association,
            _kw,
            name=f"{_type}_dissociate",
        ),
    ]

"""The contact, company and deal lists' URLs (names in `records:`): `/contacts/`,
`/companies/`, `/deals/`, their saved views and the advanced filters' criteria."""

from django.urls import URLPattern, path

from svardesk.records import list_views as views

_PREFIXES = (("contact", "contacts"), ("company", "companies"), ("deal", "deals"))

urlpatterns: list[URLPattern] = []
for _type, _prefix in _PREFIXES:
    _kw = {"object_type": _type}
    urlpatterns += [
        path(f"{_prefix}/", views.record_list, _kw, name=_prefix),
        path(f"{_prefix}/views/new/", views.create_view, _kw, name=f"{_prefix}_view_create"),
        path(f"{_prefix}/views/<int:view_pk>/", views.record_list, _kw, name=f"{_prefix}_view"),
        path(
            f"{_prefix}/views/<int:view_pk>/edit/",
            views.edit_view,
            _kw,
            name=f"{_prefix}_view_edit",
        ),
        path(
            f"{_prefix}/views/<int:view_pk>/delete/",
            views.delete_view,
            _kw,
            name=f"{_prefix}_view_delete",
        ),
        path(f"{_prefix}/criteria/", views.criteria, _kw, name=f"{_prefix}_criteria"),
    ]

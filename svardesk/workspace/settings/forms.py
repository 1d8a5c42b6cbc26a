"""Forms of the settings area. They parse and shape input; the services decide what is allowed."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from svardesk.tickets import properties as props
from svardesk.tickets.models import PropertyDefinition, PropertyGroup, PropertyType, Stage

OPEN = "open"
CLOSED = "closed"
STAGE_KINDS = [(OPEN, _("Open")), (CLOSED, _("Closed"))]
SELECT_TYPES = (PropertyType.SELECT, PropertyType.MULTISELECT)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Pipeline name"), max_length=100)


class StageForm(forms.Form):
    name = forms.CharField(label=_("Status name"), max_length=100)
    kind = forms.ChoiceField(label=_("Type"), choices=STAGE_KINDS, initial=OPEN)

    @property
    def is_closed(self) -> bool:
        return bool(self.cleaned_data["kind"] == CLOSED)


class StageDeleteForm(forms.Form):
    """Where the tickets of a deleted stage go; required only while the stage holds tickets."""

    move_to = forms.TypedChoiceField(
        label=_("Move its tickets to"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"required": _("Choose the status its tickets move to.")},
    )

    def __init__(
        self, *args: Any, stage: Stage, ticket_count: int, targets: list[Stage], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {target.pk: target for target in targets}
        groups: dict[str, list[tuple[int, str]]] = {}
        for target in targets:
            groups.setdefault(target.pipeline.display_name, []).append(
                (target.pk, target.display_name)
            )
        field = cast(forms.TypedChoiceField, self.fields["move_to"])
        field.choices = [("", _("Choose a status")), *groups.items()]
        field.required = ticket_count > 0

    def target_stage(self) -> Stage | None:
        pk = self.cleaned_data.get("move_to")
        return self.targets.get(pk) if pk is not None else None


def parse_options(text: str) -> list[dict[str, str]]:
    """One option a line, written as "value|Label" or just "Label" (the label is the value)."""
    options = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        value, sep, label = line.partition("|")
        if not sep:
            value, label = "", value
        options.append({"value": value.strip(), "label": label.strip()})
    return options


def format_options(options: list[dict[str, str]]) -> str:
    return "\n".join(f"{option['value']}|{option['label']}" for option in options)


class PropertyBaseForm(forms.Form):
    """The fields creating and editing a custom property share."""

    label = forms.CharField(label=_("Label"), max_length=100)
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=PropertyGroup.objects.order_by("display_order", "id"),
        required=False,
        empty_label=_("No group"),
    )
    new_group = forms.CharField(
        label=_("Or create a new group"),
        max_length=100,
        required=False,
        help_text=_("Fill this in to put the property in a new group of that name."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            'For dropdowns and multiple checkboxes: one option a line, as "value|Label" or '
            "just the label."
        ),
    )

    def option_list(self) -> list[dict[str, str]]:
        return parse_options(self.cleaned_data.get("options") or "")


class PropertyCreateForm(PropertyBaseForm):
    name = forms.CharField(
        label=_("Internal name"),
        max_length=64,
        help_text=_(
            "Used by the API and imports; lowercase letters, digits and underscores. "
            "It cannot be changed later."
        ),
    )
    type = forms.ChoiceField(label=_("Field type"), choices=PropertyType.choices)

    field_order = ["label", "name", "type", "group", "new_group", "description", "options"]


class PropertyEditForm(PropertyBaseForm):
    def __init__(self, *args: Any, definition: PropertyDefinition, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "label": definition.label,
                "group": definition.group_id,
                "description": definition.description,
                "options": format_options(definition.options or []),
            },
        )
        super().__init__(*args, **kwargs)
        self.definition = definition
        if definition.type not in SELECT_TYPES:
            del self.fields["options"]

    def option_list(self) -> list[dict[str, str]]:
        if "options" not in self.fields:
            return []
        return super().option_list()


class CreateFormFieldsForm(forms.Form):
    """For every optional property: shown in the "Create ticket" panel, required, position."""

    def __init__(
        self,
        *args: Any,
        specs: list[props.PropertySpec],
        current: dict[str, tuple[int, bool]],
        **kwargs: Any,
    ) -> None:
        """`current` maps the shown properties' names to (position, required)."""
        super().__init__(*args, **kwargs)
        self.specs = specs
        for spec in specs:
            position, required = current.get(spec.name, (None, False))
            self.fields[f"show_{spec.name}"] = forms.BooleanField(
                label=_("Show %(label)s in the form") % {"label": spec.label},
                required=False,
                initial=spec.name in current,
            )
            self.fields[f"required_{spec.name}"] = forms.BooleanField(
                label=_("%(label)s is required") % {"label": spec.label},
                required=False,
                initial=required,
            )
            self.fields[f"order_{spec.name}"] = forms.IntegerField(
                label=_("Position of %(label)s") % {"label": spec.label},
                required=False,
                min_value=0,
                max_value=999,
                initial=(position + 1) if position is not None else None,
                widget=forms.NumberInput(attrs={"class": "input-order"}),
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "spec": spec,
                "show": self[f"show_{spec.name}"],
                "required": self[f"required_{spec.name}"],
                "order": self[f"order_{spec.name}"],
            }
            for spec in self.specs
        ]

    def chosen_fields(self) -> list[tuple[str, bool]]:
        """The shown properties as (name, required), by position, ties in listing order."""
        chosen = []
        for index, spec in enumerate(self.specs):
            if not self.cleaned_data.get(f"show_{spec.name}"):
                continue
            position = self.cleaned_data.get(f"order_{spec.name}")
            required = bool(self.cleaned_data.get(f"required_{spec.name}"))
            chosen.append((position if position is not None else 1000, index, spec.name, required))
        chosen.sort()
        return [(name, required) for _position, _index, name, required in chosen]

class FormValidationError(ValueError):
    """A builder change was refused; `errors` maps a field (or "__all__") to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors

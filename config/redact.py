"""A secret shown once (a new API key, a new stream key) travels to its template as `Secret`: it renders
in full, but its repr is masked, so a log record that dumps a template context or local variables
(django.template at DEBUG, error reports) does not carry it."""


class Secret(str):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"<secret …{self[-4:]}>"

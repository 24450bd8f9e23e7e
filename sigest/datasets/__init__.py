"""Data set loaders: each returns arrays plus ``groups`` (subject or recording ids)."""

from ..plugins import hookimpl


@hookimpl
def sigest_register_datasets(register):
    pass

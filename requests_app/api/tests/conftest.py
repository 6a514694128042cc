from .helpers import keys  # noqa: F401

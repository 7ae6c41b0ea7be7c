"""Store locations: a GeoPackage path or a PostgreSQL URL, and how one may be shown or logged.

A leaf module (no riskmap imports), so the store backends, the records and the pages can all
ask "is this a URL?" without importing each other.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["URL_SCHEMES", "is_url", "display_location"]

URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: str | Path) -> bool:
    """True for a PostgreSQL URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


_QUERY_PASSWORD = re.compile(r"(?i)(^|&)(password=)[^&]*")


def display_location(location: str | Path) -> str:
    """The location as it may be shown or logged: a URL with its password masked (``***``),
    a GeoPackage by its file name."""
    if not is_url(location):
        return Path(location).name
    parts = urlsplit(str(location))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = _QUERY_PASSWORD.sub(r"\1\2***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

"""What ``evalql serve`` passes to the app: hosts, origins, writes, body limits.

``ServeSettings()`` holds the defaults of ``evalql serve``; each field has a
flag and an environment variable there (api/cli.py). Byte sizes are written
with a unit: ``parse_bytes("1MiB")`` -> ``1048576``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalql.api.limits import MAX_BODY_BYTES, MAX_UPLOAD_BYTES

# Names a browser on this machine uses for a loopback server. A page from any
# other name reaching it (DNS rebinding) is refused by the Host check.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")

_UNITS = {
    "": 1, "b": 1,
    "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20,
    "g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_bytes(text: str) -> int:
    """A byte count written with an optional unit.

    ``"1MiB"`` and ``"1m"`` -> 1048576; ``"1MB"`` -> 1000000; ``"512"`` -> 512.
    Raises ValueError naming the accepted forms.
    """
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(
            f"{text!r} is not a size: write a number with an optional unit, "
            "such as 1048576, 512KiB, 1MiB or 2GiB (KB, MB, GB are powers of 1000)"
        )
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < 1:
        raise ValueError(f"{text!r} is not a size: it has to be at least 1 byte")
    return size


def host_name(host: str) -> str:
    """The Host header name of a bound address: ``"::1"`` -> ``"[::1]"``."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class ServeSettings:
    """How the server answers requests, beyond the store it serves.

    host: the address bound, allowed in the Host header besides the loopback
    names; allowed_hosts: more Host names, ``"*"`` for any; cors_origins:
    browser origins allowed to call the API; allow_writes: mutations without
    a token while the store has none; max_body, max_upload: request-body
    bounds in bytes for JSON and for multipart uploads.
    """

    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    allow_writes: bool = False
    max_body: int = MAX_BODY_BYTES
    max_upload: int = MAX_UPLOAD_BYTES

    def trusted_hosts(self) -> list[str]:
        """The Host names the app answers, or ``["*"]`` when any will do."""
        if "*" in self.allowed_hosts:
            return ["*"]
        names = [*LOOPBACK_HOSTS, host_name(self.host), *self.allowed_hosts]
        return list(dict.fromkeys(name.lower() for name in names))


# An app built in-process (Starlette's TestClient sends Host: testserver) is
# reached by no browser, so it checks no Host; `evalql serve` always passes
# its own settings, whose default is the loopback names.
IN_PROCESS = ServeSettings(allowed_hosts=("*",))

"""What ``evalql serve`` passes to the app: hosts, origins, writes, body limits.

``ServeSettings()`` holds the defaults of ``evalql serve``; each field has a
flag and an environment variable there (api/cli.py). Byte sizes are written
with a unit: ``parse_bytes("1MiB")`` -> ``1048576``.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field

from evalql.api.limits import MAX_BODY_BYTES, MAX_UPLOAD_BYTES
from evalql.storage.datasets import DEFAULT_MEMORY_FRACTION, default_budget, physical_memory

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


def parse_memory(text: str) -> int:
    """A memory budget: a size (``"8GiB"``, see ``parse_bytes``) or a
    percentage of physical memory (``"40%"``)."""
    percent = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if percent is None:
        return parse_bytes(text)
    share = float(percent.group(1))
    if not 0 < share <= 100:
        raise ValueError(f"{text!r} is not a share of memory: write more than 0% and at most 100%")
    return max(1, int(physical_memory() * share / 100))


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
    bounds in bytes for JSON and for multipart uploads; memory: the byte
    budget of loaded splits and everything derived from them (default half
    of physical memory, see ``storage.datasets.default_budget``).
    """

    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    allow_writes: bool = False
    max_body: int = MAX_BODY_BYTES
    max_upload: int = MAX_UPLOAD_BYTES
    memory: int = field(default_factory=default_budget)

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


# ---- evalql serve's options for these settings, each with its variable ----


def _size(text: str) -> int:
    try:
        return parse_bytes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _memory(text: str) -> int:
    try:
        return parse_memory(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _env_list(name: str) -> list[str]:
    """``EVALQL_CORS_ORIGIN="https://a.example, https://b.example"`` -> both."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def add_arguments(serve: argparse.ArgumentParser) -> None:
    """``evalql serve``'s options for ServeSettings (read back by ``from_arguments``)."""
    serve.add_argument(
        "--allowed-host", action="append", metavar="NAME",
        help="another name the server may be called by in the Host header, such as its "
             "DNS name behind a proxy; repeatable; * allows any (default: localhost, "
             "127.0.0.1, [::1] and --host; $EVALQL_ALLOWED_HOST, comma-separated, adds to them)",
    )
    serve.add_argument(
        "--cors-origin", action="append", metavar="ORIGIN",
        help="a web origin (scheme://host[:port]) whose pages may call the API from a "
             "browser; repeatable (default: none; $EVALQL_CORS_ORIGIN, comma-separated)",
    )
    serve.add_argument(
        "--allow-writes", action="store_true", default=_env_flag("EVALQL_ALLOW_WRITES"),
        help="run mutations without a token while the store has none "
             "(default: off, or $EVALQL_ALLOW_WRITES=1)",
    )
    serve.add_argument(
        "--max-body", type=_size, metavar="SIZE",
        default=os.environ.get("EVALQL_MAX_BODY", "1MiB"),
        help="largest JSON request body, in bytes or with a unit (KiB, MiB, GiB); "
             "$EVALQL_MAX_BODY",
    )
    serve.add_argument(
        "--max-upload", type=_size, metavar="SIZE",
        default=os.environ.get("EVALQL_MAX_UPLOAD", "2GiB"),
        help="largest multipart upload (a file sent to a mutation); $EVALQL_MAX_UPLOAD",
    )
    serve.add_argument(
        "--memory", type=_memory, metavar="SIZE|PERCENT",
        default=os.environ.get("EVALQL_MEMORY", f"{DEFAULT_MEMORY_FRACTION:.0%}"),
        help="memory budget for loaded splits and everything derived from them (indexes, "
             "masks, id ranks, joins), as a size (8GiB) or a share of physical memory "
             "(40%%); least recently used splits are evicted beyond it "
             "(default: 50%%; $EVALQL_MEMORY)",
    )


def _origin(text: str) -> str:
    """``"https://a.example:8443"`` as is; a path, or no scheme, is refused:
    a browser's Origin header has neither, so it would never match."""
    if text == "*" or re.fullmatch(r"https?://[^/\s]+", text):
        return text
    raise ValueError(f"--cors-origin {text!r} is not an origin: write scheme://host[:port], "
                     "such as https://dashboards.example, without a path")


def _allowed_host(text: str) -> str:
    name = text.strip().lower()
    if name == "*" or re.fullmatch(r"(\*\.)?[^*:/\s]+|\[[0-9a-f:.]+\]", name):
        return name
    raise ValueError(f"--allowed-host {text!r} is not a host name: write it without scheme, "
                     "port or path (such as evalql.example or *.example)")


def from_arguments(args: argparse.Namespace) -> ServeSettings:
    """The settings of ``evalql serve``'s options; ValueError names a bad one.

    A repeatable option given on the command line replaces its variable.
    """
    hosts = args.allowed_host if args.allowed_host is not None else _env_list(
        "EVALQL_ALLOWED_HOST")
    origins = args.cors_origin if args.cors_origin is not None else _env_list(
        "EVALQL_CORS_ORIGIN")
    return ServeSettings(
        host=args.host,
        allowed_hosts=tuple(_allowed_host(h) for h in hosts),
        cors_origins=tuple(_origin(o) for o in origins),
        allow_writes=args.allow_writes,
        max_body=args.max_body,
        max_upload=args.max_upload,
        memory=getattr(args, "memory", None) or default_budget(),
    )

"""``evalql token add | list | revoke``: the command side of storage/tokens.py.

``add`` prints the new token alone on stdout (so ``$(evalql token add ci)``
captures it) and says on stderr that it is shown only once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from evalql.storage.tokens import ROLES, TokenStore

# api/cli.py's helpers, passed in so this module does not import the CLI.
OpenStore = Callable[[argparse.Namespace], Path]


def add_command(
    sub: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter],
    data_help: str, read: OpenStore, write: OpenStore,
) -> None:
    """Register ``token`` and its three actions on the CLI's subparsers.

    ``read`` opens the store for ``list``; ``write`` for ``add`` and
    ``revoke``, as every write command does (migrated, orphans removed).
    Both refuse a folder that holds no store.
    """
    token = sub.add_parser(
        "token", help="make, list and revoke the bearer tokens of a store",
        description="Make, list and revoke the bearer tokens of a store. Once a store has "
                    "a token, the server answers /graphql and /metrics only to requests "
                    "that carry one (Authorization: Bearer TOKEN).",
        formatter_class=formatter,
    )
    actions = token.add_subparsers(dest="action", required=True, metavar="ACTION",
                                   help="add, list or revoke")

    def action(name: str, summary: str, run: Callable[[TokenStore, argparse.Namespace], int],
               open_store: OpenStore) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=summary, formatter_class=formatter,
                                    description=summary[0].upper() + summary[1:] + ".")
        parser.add_argument("--data", metavar="DIR", help=data_help)
        parser.set_defaults(handler=lambda args: run(TokenStore(open_store(args)), args))
        return parser

    add = action("add", "make a token and print it, once", _add, write)
    add.add_argument("name", metavar="NAME", help="what the token is for, such as ci or grafana")
    add.add_argument("--role", choices=ROLES, default="read",
                     help="read: queries; write: queries and mutations")
    action("list", "list the tokens' names, roles and creation times (never the tokens)", _list,
           read)
    revoke = action("revoke", "delete a token: requests carrying it are refused", _revoke, write)
    revoke.add_argument("name", metavar="NAME", help="the token's name, as token list shows it")


def _add(tokens: TokenStore, args: argparse.Namespace) -> int:
    token = tokens.add(args.name, args.role)
    print(token)
    print(f"evalql token: made {args.name!r} ({args.role}); it is shown only this once, "
          "and the store keeps only its hash", file=sys.stderr)
    return 0


def _list(tokens: TokenStore, args: argparse.Namespace) -> int:
    found = tokens.list()
    if not found:
        print(f"evalql token: no tokens in {tokens.root.resolve()}: the server answers "
              "anyone who can reach it", file=sys.stderr)
    width = max((len(t.name) for t in found), default=0)
    for t in found:
        print(f"{t.name:<{width}}  {t.role:<5}  {t.created_at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def _revoke(tokens: TokenStore, args: argparse.Namespace) -> int:
    tokens.revoke(args.name)
    print(f"revoked {args.name!r}")
    return 0

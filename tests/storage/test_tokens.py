"""Tokens in the catalog: made once, kept only as a hash, listed, revoked."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from evalql.storage.catalog import Catalog
from evalql.storage.errors import StoreNotFound
from evalql.storage.tokens import TokenError, TokenStore, token_hash


@pytest.fixture
def root(tmp_path: Path) -> Path:
    Catalog(tmp_path)
    return tmp_path


def test_a_store_without_tokens_lists_none_and_has_no_roles(root: Path) -> None:
    assert TokenStore(root).list() == []
    assert TokenStore(root).roles() == {}


def test_a_new_token_is_random_and_only_its_hash_is_stored(root: Path) -> None:
    tokens = TokenStore(root)
    first, second = tokens.add("ci", "read"), tokens.add("grafana", "write")
    assert first != second and first.startswith("evalql_") and len(first) >= 40
    assert tokens.roles() == {token_hash(first): "read", token_hash(second): "write"}
    with closing(sqlite3.connect(root / "catalog.sqlite")) as conn:
        stored = conn.execute("SELECT * FROM tokens").fetchall()
    assert not [row for row in stored if first in map(str, row) or second in map(str, row)]
    assert (root / "catalog.sqlite").read_bytes().find(first.encode()) == -1


def test_list_gives_names_roles_and_times_oldest_first(root: Path) -> None:
    tokens = TokenStore(root)
    tokens.add("ci", "read")
    tokens.add("admin", "write")
    listed = tokens.list()
    assert {(t.name, t.role) for t in listed} == {("ci", "read"), ("admin", "write")}
    assert all(t.created_at.tzinfo is not None for t in listed)


def test_revoke_removes_the_token(root: Path) -> None:
    tokens = TokenStore(root)
    token = tokens.add("ci", "read")
    tokens.revoke("ci")
    assert tokens.list() == [] and token_hash(token) not in tokens.roles()


def test_refusals_say_what_is_wrong(root: Path) -> None:
    tokens = TokenStore(root)
    tokens.add("ci", "read")
    with pytest.raises(TokenError, match="there is a token called 'ci'; revoke it first"):
        tokens.add("ci", "write")
    with pytest.raises(TokenError, match="there is no token called 'nope'"):
        tokens.revoke("nope")
    with pytest.raises(TokenError, match="role is read or write, not 'admin'"):
        tokens.add("x", "admin")
    with pytest.raises(TokenError, match="printable characters"):
        tokens.add(" padded ", "read")
    assert [t.name for t in tokens.list()] == ["ci"]


def test_a_folder_without_a_store_is_store_not_found(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound):
        TokenStore(tmp_path).add("ci", "read")
    with pytest.raises(StoreNotFound):
        TokenStore(tmp_path).roles()
    assert not (tmp_path / "catalog.sqlite").exists()

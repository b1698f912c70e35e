# SPDX-License-Identifier: Apache-2.0
"""deploy/nginx limits what one address can hold of a township (issue 13, fact 6).

The file is read as nginx reads it (directives end in ``;``, blocks in ``{ }``), so a
directive left in a comment or put in the wrong block does not count. (``nginx -t``
accepted the file when it was written; nginx itself is not a dependency of the tests.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "renkou-township.conf"


@dataclass
class Block:
    name: str
    directives: list[list[str]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def get(self, name: str) -> list[list[str]]:
        return [d[1:] for d in self.directives if d[0] == name]

    def block(self, *name: str) -> Block:
        (found,) = [b for b in self.blocks if b.name.split() == list(name)]
        return found


def parse(text: str) -> Block:
    """Directives and blocks of an nginx file (comments dropped; enough for this file)."""
    text = re.sub(r"#[^\n]*", "", text)
    stack = [Block("main")]
    word: list[str] = []
    for token in re.findall(r"[{};]|[^\s{};]+", text):
        if token == ";":
            stack[-1].directives.append(word)
            word = []
        elif token == "{":
            block = Block(" ".join(word))
            stack[-1].blocks.append(block)
            stack.append(block)
            word = []
        elif token == "}":
            stack.pop()
        else:
            word.append(token)
    assert len(stack) == 1 and not word, "unbalanced nginx file"
    return stack[0]


@pytest.fixture(scope="module")
def conf() -> Block:
    return parse(CONF.read_text(encoding="utf-8"))


def seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s|m)?", value).groups()  # type: ignore[union-attr]
    return int(number) * (60 if unit == "m" else 1)


def test_the_zones_count_per_client_address(conf: Block) -> None:
    zones = {d[1].split("=")[1].split(":")[0]: d for d in conf.get("limit_req_zone")}
    zones.update({d[1].split("=")[1].split(":")[0]: d for d in conf.get("limit_conn_zone")})
    assert set(zones) == {"renkou_conn", "renkou_req", "renkou_hello"}
    assert all(d[0] == "$binary_remote_addr" for d in zones.values())


def test_requests_and_handshakes_are_limited_per_address(conf: Block) -> None:
    server = conf.block("server")
    ((zone, most),) = server.get("limit_conn")
    assert zone == "renkou_conn" and 1 <= int(most) <= 16
    assert server.get("limit_conn_status") == [["429"]] == server.get("limit_req_status")
    sync = server.block("location", "/sync/v1/")
    assert sync.get("limit_req") == [["zone=renkou_req", "burst=40", "nodelay"]]
    hello = sync.block("location", "=", "/sync/v1/session")
    assert hello.get("limit_req") == [["zone=renkou_hello", "burst=10", "nodelay"]]
    assert hello.get("proxy_pass") == sync.get("proxy_pass")  # not inherited by nginx


def test_a_slow_client_cannot_hold_a_connection_with_its_headers(conf: Block) -> None:
    server = conf.block("server")
    ((header,),) = server.get("client_header_timeout")
    assert seconds(header) <= 15

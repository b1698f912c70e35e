# SPDX-License-Identifier: Apache-2.0
"""Revocation lists travel with sync (issue 4), over real HTTP on loopback.

The administrator revokes a stolen village PC and installs the list at the county node
only; every node then holds it after its next sync, and the stolen PC's next session at
its township is refused with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.admin import CountyAdmin
from node.sync.client import SessionFailed, SyncFailed
from node.sync.revocations import held_version
from node.sync.status import status_lines
from node.sync.trust import held_revocations, install_revocations
from protocol import CertificateError, LogId, NodeId, ProtocolError
from tests.node.sync.network import County, loopback_county

V1, V2, V3 = "440104001002", "440104001003", "440104002001"
T1, T2 = V1[:9], V3[:9]


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    with loopback_county(tmp_path, {T1: [V1, V2], T2: [V3]}) as c:
        for code in (V1, V2, V3, T1, T2, V1, V2, V3):  # everything up and acknowledged
            c.client(code).sync_round()
        yield c


def now() -> int:
    return time.time_ns() // 1_000_000


def revoke(county: County, code: str) -> bytes:
    store = county.villages[code]
    valid = {store.changelog.log: store.changelog.head_seq}
    raw = county.admin.revoke_node(code, "stolen", valid, now())
    install_revocations(county.county.store.data_dir, raw)
    return raw


def test_a_revocation_reaches_every_node_and_the_stolen_pc_is_refused(
    county: County, english: None
) -> None:
    revoke(county, V1)
    assert held_version(county.towns[T1].store.data_dir) == 0

    notes = county.client(T1).sync_round().notes
    assert any("installed revocation list version 1" in n for n in notes), notes
    county.client(T2).sync_round()
    report = county.client(V3).sync_round()  # a village of the other township
    assert any("installed revocation list version 1" in n for n in report.notes)
    for served in (county.towns[T1], county.towns[T2]):
        assert held_version(served.store.data_dir) == 1
    assert held_version(county.villages[V3].data_dir) == 1

    # The revoked village's next session at its township: 403, with the reason.
    with pytest.raises(SessionFailed) as refused:
        county.client(V1).sync_round()
    assert refused.value.status == 403 and refused.value.code == "revoked"
    assert "stolen" in refused.value.detail["en"] and refused.value.detail["zh"]

    # The other village of that township syncs on, and gets the list too.
    county.client(V2).sync_round()
    assert held_version(county.villages[V2].data_dir) == 1
    v2 = county.villages[V2]
    assert "revocations: version 1, 1 revoked" in "\n".join(status_lines(v2.db, v2.data_dir))

    # Once held, an idle round is one request again (the version rides in the request).
    client = county.client(V3)
    client.sync_round()  # opens its session
    idle = client.sync_round()
    assert idle.idle and idle.requests == 1


def test_a_newer_list_replaces_the_held_one_never_an_older_one(county: County) -> None:
    first = revoke(county, V1)
    county.client(T2).sync_round()
    second = revoke(county, V2)
    t2 = county.towns[T2].store.data_dir
    assert county.client(T2).sync_round().notes  # installs version 2
    crl = held_revocations(t2)
    assert crl is not None and crl.version == 2 and len(crl.revoked) == 2
    with pytest.raises(CertificateError):
        install_revocations(t2, first)  # an older list: refused, version 2 stays
    assert held_version(t2) == 2
    assert install_revocations(t2, second) is None  # the same list: nothing to do


def test_a_list_of_another_root_is_refused(county: County, tmp_path: Path) -> None:
    other = CountyAdmin.create(tmp_path / "other", "440104", now())
    other_cert = other.certify(county.villages[V3].data_dir, now())
    assert other_cert.node == NodeId.for_code(V3)
    raw = other.revoke_node(V3, "lost", {LogId(NodeId.for_code(V3), 1): 1}, now())
    with pytest.raises(ProtocolError):  # signed by another root key
        install_revocations(county.county.store.data_dir, raw)
    assert held_version(county.county.store.data_dir) == 0


def test_a_session_open_when_the_list_arrives_ends_at_its_next_request(county: County) -> None:
    """The stolen PC had a session at its township before the list got there: its next
    request is refused at once, not when the session would have expired (12 h)."""
    client = county.client(V1)
    client.sync_round()  # a session is open and kept by this client
    revoke(county, V1)
    county.client(T1).sync_round()  # the township installs the list
    with pytest.raises(SyncFailed) as refused:
        client.link.call("GET", "/sync/v1/outbox?after=0")
    assert refused.value.code == "revoked" and refused.value.detail["status"] == 403
    assert refused.value.authenticated  # the township's word, not a forgery on the link

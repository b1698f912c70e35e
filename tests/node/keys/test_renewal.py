# SPDX-License-Identifier: Apache-2.0
"""Renewal and rotation (issue 14 item 3), over real HTTP on loopback.

The administrator renews a township's certificate and publishes it at the county node:
the township takes it before its next round and its villages at their next session,
because it chains to the root they trust; nobody replaces a file by hand. A village
rotates its keys with a request its old key signs; once certified, the new keys take
over at its next round. Certificates that run out within 30 days are listed and warned.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.admin import CountyAdmin
from node.identity import load_identity
from node.keys.expiry import status_lines as expiry_lines
from node.keys.published import remember_county_url
from node.keys.reissue import renew
from node.keys.renewal import publish
from node.store.certs import Certs
from node.store.holdings import Holdings
from node.sync.client import SessionFailed
from node.sync.trust import load_certificate
from protocol import decode_certificate
from tests.node.sync.network import County, SimClock, loopback_county

V1, V2 = "440104001002", "440104001003"
T1 = V1[:9]
DAY = 86_400_000


HOUR = 3_600_000


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def county(tmp_path: Path, clock: SimClock) -> Iterator[County]:
    """A county on simulated time: a node looks for its renewed certificate at most
    hourly, so the tests move the clock an hour where a day would pass."""
    with loopback_county(tmp_path, {T1: [V1, V2]}, clock=clock) as c:
        for code in (V1, V2, T1):
            c.client(code).sync_round()
        clock.advance(HOUR)
        yield c


def cert_of(data_dir: Path, name: str = "node.cert") -> int:
    cert = load_certificate(data_dir, name)
    assert cert is not None
    return cert.serial


def test_a_renewed_township_reaches_its_villages_through_sync(
    county: County, renkou: Callable[..., str], clock: SimClock
) -> None:
    town, village = county.towns[T1].store.data_dir, county.villages[V1].data_dir
    before = cert_of(town)
    out = renkou(
        "keys", "renew", "--code", T1, "--admin-dir", str(county.admin.directory),
        "--county-data-dir", str(county.county.store.data_dir),
    )  # fmt: skip
    assert f"renewed township:{T1}" in out and "published at the county node" in out
    issued = county.admin.issued(T1)
    assert issued is not None
    renewed = issued.serial
    assert renewed > before

    notes = county.client(T1).sync_round().notes  # the township takes its own
    assert any(f"installed our renewed certificate {renewed}" in n for n in notes), notes
    assert cert_of(town) == renewed
    assert cert_of(village, "parent.cert") == before

    county.client(V1).sync_round()  # its session answer carries the renewed certificate
    assert cert_of(village, "parent.cert") == renewed
    client = county.client(V2)
    client.sync_round()
    assert cert_of(county.villages[V2].data_dir, "parent.cert") == renewed
    assert client.sync_round().idle


def test_an_expired_township_is_renewed_without_touching_a_village(tmp_path: Path) -> None:
    """Two years on, every certificate has run out: the county renews them and the
    township and its village sync again, each taking its own from the county."""
    clock = SimClock()
    with loopback_county(tmp_path, {T1: [V1]}, clock=clock) as c:
        c.client(V1).sync_round()
        c.client(T1).sync_round()
        clock.advance(2 * 365 * DAY + DAY)
        with pytest.raises(SessionFailed) as expired:
            c.client(T1).sync_round()
        assert expired.value.code == "expired"
        for code in (T1, V1):
            publish(c.county.store.data_dir, renew(c.admin, code, clock()))
        village = c.villages[V1].data_dir
        remember_county_url(village, c.county.url)  # enrolment leaves it there
        clock.advance(HOUR)  # the failed round looked for it already: an hour later
        c.client(T1).sync_round()
        notes = c.client(V1).sync_round().notes
        assert any("installed our renewed certificate" in n for n in notes), notes
        assert cert_of(village, "parent.cert") == cert_of(c.towns[T1].store.data_dir)


def test_a_forged_or_older_parent_certificate_is_refused(
    county: County, tmp_path: Path, clock: SimClock
) -> None:
    town, village = county.towns[T1].store.data_dir, county.villages[V1].data_dir
    held = (village / "keys" / "parent.cert").read_bytes()
    forger = CountyAdmin.create(tmp_path / "forger", "440104", clock())
    (forger.directory / "next_serial").write_text("10000")  # "newer" than any held
    forged = forger.certify(town, clock())
    (town / "keys" / "node.cert").write_bytes(forged.raw)
    with pytest.raises(SessionFailed) as refused:
        county.client(V1).sync_round()
    assert refused.value.code in ("bad_signature", "bad_certificate"), refused.value
    assert held == (village / "keys" / "parent.cert").read_bytes()

    first = renew(county.admin, T1, clock())
    second = renew(county.admin, T1, clock())
    (village / "keys" / "parent.cert").write_bytes(second.raw)
    (town / "keys" / "node.cert").write_bytes(first.raw)  # a valid but older one
    with pytest.raises(SessionFailed) as older:
        county.client(V1).sync_round()
    assert "older than the one held" in str(older.value)
    assert second.raw == (village / "keys" / "parent.cert").read_bytes()


def test_a_clock_days_off_is_refused_and_changes_nothing(county: County, clock: SimClock) -> None:
    renewed = renew(county.admin, T1, clock())
    (county.towns[T1].store.data_dir / "keys" / "node.cert").write_bytes(renewed.raw)
    village = county.villages[V1].data_dir
    held = (village / "keys" / "parent.cert").read_bytes()
    days_behind = clock() - 3 * DAY
    with pytest.raises(SessionFailed) as refused:
        county.client(V1, now_ms=lambda: days_behind).sync_round()
    assert refused.value.code == "expired"
    assert held == (village / "keys" / "parent.cert").read_bytes()


def test_a_village_rotates_its_keys_and_syncs_on_with_the_new_ones(
    county: County, runner: CliRunner, clock: SimClock
) -> None:
    store = county.villages[V1]
    village = store.data_dir
    old_key = store.identity.signing.verify_key.raw
    before = cert_of(village)
    result = runner.invoke(
        cli, ["node", "rotate-keys", "--county-url", county.county.url, "--data-dir", str(village)]
    )
    assert result.exit_code == 0, result.output
    assert os.stat(village / "keys" / "node.key.next").st_mode & 0o777 == 0o600
    assert county.client(V1).sync_round()  # still its old keys: nothing certified yet
    assert cert_of(village) == before

    out = runner.invoke(
        cli,
        ["keys", "rotate", "--admin-dir", str(county.admin.directory)]
        + ["--county-data-dir", str(county.county.store.data_dir)],
    )
    assert out.exit_code == 0 and f"certified the new keys of village:{V1}" in out.output
    clock.advance(HOUR)
    notes = county.client(V1).sync_round().notes
    assert any("installed our renewed certificate" in n for n in notes), notes
    new = load_certificate(village, "node.cert")
    assert new is not None and new.serial > before and new.verify_key.raw != old_key
    assert load_identity(village).signing.verify_key.raw == new.verify_key.raw
    assert (village / "keys" / "node.key.retired").exists()

    # It signs with the new keys from now on: a new record reaches the county, which
    # verified its batch under the new certificate.
    rid = store.new_id("person")
    store.write([store.upsert_op("person", rid, {"name": "新钥", "n": 1})])
    county.client(V1).sync_round()
    county.client(T1).sync_round()
    county_db = county.county.store.db
    assert Certs(county_db).of(f"village:{V1}", new.serial)
    frontier = Holdings(county_db).frontier()
    assert frontier.get(store.changelog.log).seq == store.changelog.head_seq


def test_a_rotation_not_signed_by_the_certified_key_is_refused(
    county: County, clock: SimClock
) -> None:
    import requests

    from protocol import KemPrivateKey, SigningKey, Suite
    from protocol.rotation import make_rotation

    cert = decode_certificate((county.villages[V1].data_dir / "keys" / "node.cert").read_bytes())
    thief = SigningKey.generate(Suite.HYBRID)
    forged = make_rotation(
        thief, cert.node, cert.serial, thief.verify_key,
        KemPrivateKey.generate(Suite.HYBRID).public_key, clock(),
    )  # fmt: skip
    resp = requests.post(county.county.url + "/keys/v1/rotations", data=forged, timeout=10)
    assert resp.status_code == 401 and resp.json()["code"] == "bad_signature"
    assert not (county.county.store.data_dir / "keys" / "rotations").exists()
    resp = requests.post(county.county.url + "/keys/v1/rotations", data=b"RKS1junk", timeout=10)
    assert resp.status_code == 400


def test_loose_permissions_on_the_waiting_key_stop_the_swap(
    county: County, runner: CliRunner, clock: SimClock
) -> None:
    village = county.villages[V1].data_dir
    args = ["node", "rotate-keys", "--county-url", county.county.url, "--data-dir", str(village)]
    assert runner.invoke(cli, args).exit_code == 0
    rotate = ["keys", "rotate", "--admin-dir", str(county.admin.directory)]
    assert runner.invoke(cli, [*rotate, "--county-data-dir", str(county.county.store.data_dir)])
    before = cert_of(village)
    os.chmod(village / "keys" / "node.key.next", 0o644)
    clock.advance(HOUR)
    notes = county.client(V1).sync_round().notes
    assert any("key_file_mode" in n for n in notes), notes
    assert cert_of(village) == before


def test_certificates_expiring_within_30_days_are_listed_and_warned(
    county: County, runner: CliRunner, english: None
) -> None:
    admin = ["--admin-dir", str(county.admin.directory)]
    result = runner.invoke(cli, ["--lang", "en", "keys", "list", *admin, "--within-days", "800"])
    assert result.exit_code == 0, result.output
    assert f"township:{T1}" in result.output and "expires in" in result.output
    assert "年" in result.output  # local dates, never milliseconds
    quiet = runner.invoke(cli, ["--lang", "en", "keys", "list", *admin])
    assert "0 certificate(s) expire within 30 days" in quiet.output

    village = county.villages[V1].data_dir
    own = load_certificate(village, "node.cert")
    assert own is not None
    assert expiry_lines(village, own.not_after - 40 * DAY) == []
    warned = expiry_lines(village, own.not_after - 10 * DAY)
    assert any("keys/node.cert" in w and "expires in 10 days" in w for w in warned), warned
    gone = expiry_lines(village, own.not_after + DAY)
    assert any("EXPIRED" in w for w in gone)

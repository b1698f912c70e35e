# SPDX-License-Identifier: Apache-2.0
"""``renkou keys trust`` and ``renkou keys fingerprint``: trusting a peer county."""

from __future__ import annotations

import time
from pathlib import Path

import click

from node.cli.keys import admin_dir_option, passphrase_option
from node.cli_options import reports_errors


def _now() -> int:
    return time.time_ns() // 1_000_000


def _digits(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


@click.command("fingerprint")
@admin_dir_option
@reports_errors
def fingerprint_command(admin_dir: Path) -> None:
    """Print this county's root fingerprint, to read to a peer county's administrator.

    Example:

    \b
        renkou keys fingerprint --admin-dir ./admin
    """
    from node.keys.peers import fingerprint
    from protocol import decode_certificate

    root = decode_certificate((admin_dir / "root.cert").read_bytes())
    click.echo(f"{root.node} 根证书指纹 / root fingerprint: {fingerprint(root)}")


@click.command("trust")
@passphrase_option
@click.option(
    "--peer-root",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The peer county's root.cert, as its administrator sent it.",
)
@click.option(
    "--peer-issuing",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The peer county's issuing.cert (its nodes' certificates are signed by it).",
)
@click.option(
    "--root-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Our county root (the stick kept offline): only the root trusts another county.",
)
@click.option(
    "--fingerprint",
    "expected",
    default=None,
    help="The 30 digits the peer's administrator read out (else asked at the terminal).",
)
@click.option(
    "--county-data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The county node's data dir: install the cross-certificate there, where the "
    "peer county's nodes are verified.",
)
@admin_dir_option
@reports_errors
def trust_command(
    peer_root: Path,
    peer_issuing: Path | None,
    root_dir: Path,
    expected: str | None,
    county_data_dir: Path | None,
    admin_dir: Path,
) -> None:
    """Cross-certify a peer county's root (for the floating-population exchange).

    Both administrators run `renkou keys fingerprint` and read the digits to each
    other by phone; the peer root is certified only if its digits are the ones heard.

    Example:

    \b
        renkou keys trust --peer-root 440105-root.cert \\
            --peer-issuing 440105-issuing.cert \\
            --fingerprint "01234 56789 01234 56789 01234 56789" \\
            --root-dir /media/usb/root --admin-dir ./admin --county-data-dir ./county
    """
    from node.admin import CountyAdmin
    from node.keys.dates import local_date
    from node.keys.offline_root import OfflineRoot
    from node.keys.peers import (
        cross_certify,
        fingerprint,
        install_cross_certificate,
        read_peer_issuing,
        read_peer_root,
    )
    from node.keys.revoking import refused
    from protocol import decode_certificate

    now = _now()
    own = decode_certificate((admin_dir / "root.cert").read_bytes())
    peer = read_peer_root(peer_root.read_bytes(), own, now)
    digits = fingerprint(peer)
    click.echo(f"本县 {own.node} 根证书指纹 / our root fingerprint:    {fingerprint(own)}")
    click.echo(f"对方 {peer.node} 根证书指纹 / peer root fingerprint: {digits}")
    if expected is None:
        heard = click.confirm(
            f"与 {peer.node} 管理员电话中读出的数字一致吗？/ Are these the digits the "
            f"administrator of {peer.node} read to you?",
            default=False,
        )
    else:
        heard = _digits(expected) == _digits(digits)
    if not heard:
        raise refused(
            f"指纹不符，未信任 {peer.node}：根证书文件可能在途中被替换",
            f"the fingerprint does not match; {peer.node} is not trusted (the root file "
            "may have been swapped on the way)",
            "fingerprint_mismatch",
        )
    issuing = b""
    if peer_issuing is not None:
        issuing = read_peer_issuing(peer_issuing.read_bytes(), peer, now).raw
    root = OfflineRoot.open(root_dir)
    admin = CountyAdmin.open(admin_dir)
    cross = cross_certify(admin_dir, root.signing, root.cert, peer, admin._serial(), now)
    click.echo(
        f"已交叉认证 {peer.node}（证书 {cross.serial}，有效至 {local_date(cross.not_after)}）"
        f" / cross-certified {peer.node}: {admin_dir / 'peers' / f'{peer.node.code}.cert'}"
    )
    if county_data_dir is not None:
        install_cross_certificate(county_data_dir, cross.raw, root.cert, now, issuing)
        click.echo("已安装到县节点 / installed at the county node")

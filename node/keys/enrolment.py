# SPDX-License-Identifier: Apache-2.0
"""Enrolment by one-time code, both ends (SPEC.md §8.8; wire format protocol/enrolment.py).

* The county (``answer_request``): the request is decoded (its keys signed it), its
  node's parent must be enrolled and its suite the county's, then the invitation is
  taken (node/keys/invites.py: unknown, used, forged, expired and wrong-node codes are
  refused, naming which) and the node certified by the issuing key.
* The PC (``enrol_with_code``): its keys were generated here and never leave; it sends
  the request (to the county, or to its township, which passes it up unchanged), checks
  that the answer carries the code's MAC and that every certificate chains to the root
  in it, and only then writes its certificates and the county's address into keys/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests

from node.admin import CountyAdmin
from node.errors import FieldProblem, NodeError, StorageError, ValidationError
from node.identity import key_dir, load_identity
from node.keys.dates import readable
from node.keys.files import write_atomic
from node.keys.invites import take_invite
from node.keys.issuing import ISSUING_CERT, chain_of
from node.keys.published import remember_county_url
from node.sync.parent import remember_parent_url
from protocol import Certificate, ProtocolError, verify_chain
from protocol.enrolment import (
    MAX_ANSWER,
    EnrolAnswer,
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
    normalise_code,
)

ENROL_PATH = "/enrol/v1/request"


def _as_refusal(exc: NodeError, field: str = "node") -> ValidationError:
    return ValidationError([FieldProblem(field, f"enrol.{exc.code}", exc.zh, exc.en)])


def answer_request(admin_dir: Path, raw: bytes, now_ms: int) -> bytes:
    """The county's answer to an enrolment request (the bytes to send back).

    Raises:
        ProtocolError: the request is malformed or not signed by its own keys.
        ValidationError: refused (the field problem's code says why).
        StorageError: the issuing key cannot be opened on this server.
    """
    request = decode_request(raw)
    admin = CountyAdmin.open(admin_dir)
    try:
        parent, county = admin.chain_for(request.node)
        admin.check_suite(request.node, request.suite)
    except StorageError:
        raise
    except NodeError as exc:
        raise _as_refusal(exc) from None
    invite = take_invite(admin_dir, request, now_ms)
    cert = admin.certify_keys(request.node, request.verify_key, request.kem_key, now_ms)
    answer = EnrolAnswer(cert, admin.issuing, admin.root, parent, county)
    return encode_answer(answer, request, invite.key)


Post = Callable[[str, bytes], requests.Response]


def _post(url: str, data: bytes) -> requests.Response:
    return requests.post(
        url, data=data, timeout=60, headers={"Content-Type": "application/octet-stream"}
    )


def enrol_with_code(
    data_dir: Path, code: str, url: str, now_ms: int, *, county_url: str = "", post: Post = _post
) -> EnrolAnswer:
    """Enrol the node in ``data_dir`` with ``code`` through ``url`` (its township or
    the county); ``county_url`` is remembered for the county's published lists (``url``
    when empty).

    Raises:
        ValidationError: the code is not a code, or the county refused it (why).
        NodeError: the county could not be reached, or answered something that does
            not verify (nothing is written then).
    """
    try:
        code = normalise_code(code)
    except ProtocolError as exc:
        raise ValidationError(
            [FieldProblem("code", "enrol.not_a_code", "邀请码应为12位字母和数字", f"{exc}")]
        ) from None
    identity = load_identity(data_dir)
    raw = encode_request(code, identity.node, identity.signing, identity.kem.public_key, now_ms)
    try:
        resp = post(url.rstrip("/") + ENROL_PATH, raw)
    except requests.RequestException as exc:
        raise NodeError(
            f"无法连接 {url}（{type(exc).__name__}），请检查网络和地址后重试",
            f"{url} could not be reached ({type(exc).__name__}); check the network and the "
            "address, then try again (the code is still unused)",
            code="enrol_unreachable",
        ) from None
    if resp.status_code != 200:
        raise _refusal(resp)
    try:
        answer = decode_answer(resp.content[: MAX_ANSWER + 1], code, raw)
        _check(answer, identity.node, identity.signing.verify_key.raw, now_ms)
    except ProtocolError as exc:
        raise NodeError(
            f"县级的答复无法验证（{exc.code}），未写入任何内容；请联系管理员",
            f"the county's answer does not verify ({exc.code}: {readable(str(exc))}); "
            "nothing was written",
            code="enrol_bad_answer",
        ) from None
    _install(data_dir, answer, county_url or url)
    if (
        url.rstrip("/") != (county_url or url).rstrip("/")
        or answer.parent.node == answer.county.node
    ):
        remember_parent_url(data_dir, url)  # the address it enrolled through is its parent's
    return answer


def _refusal(resp: requests.Response) -> NodeError:
    """The county's refusal as the county worded it (bounded; never trusted further)."""
    try:
        body = resp.json() if len(resp.content) < 65536 else {}
    except ValueError:
        body = {}
    problems = body.get("problems") if isinstance(body, dict) else None
    if isinstance(problems, list) and problems and isinstance(problems[0], dict):
        return ValidationError(
            [
                FieldProblem(
                    str(p.get("field", "code"))[:40],
                    str(p.get("code", "enrol.refused"))[:64],
                    str(p.get("zh", ""))[:500],
                    str(p.get("en", ""))[:500],
                )
                for p in problems[:5]
                if isinstance(p, dict)
            ]
        )
    zh = str(body.get("zh", "")) if isinstance(body, dict) else ""
    en = str(body.get("en", "")) if isinstance(body, dict) else ""
    return NodeError(
        f"登记被拒绝（HTTP {resp.status_code}）：{zh[:500]}",
        f"enrolment refused (HTTP {resp.status_code}): {en[:500]}",
        code=str(body.get("code", "enrol_refused"))[:64] if isinstance(body, dict) else "",
    )


def _check(answer: EnrolAnswer, node: object, verify_raw: bytes, now_ms: int) -> None:
    """Every certificate of the answer chains to its root; ours carries our keys."""
    root, issuing = answer.root, [answer.issuing] if answer.issuing is not None else []

    def verify(cert: Certificate) -> None:
        verify_chain(chain_of(cert, root, issuing), [root], now_ms)

    for cert in (answer.node, answer.parent, answer.county):
        verify(cert)
    if answer.node.node != node or answer.node.verify_key.raw != verify_raw:
        raise _mismatch("the certificate is not for this node's keys")
    if answer.parent.node != answer.node.node.parent:
        raise _mismatch("the parent's certificate is not of our parent")
    if answer.county.node.code != answer.node.node.county_code:
        raise _mismatch("the county's certificate is not of our county")


def _mismatch(why: str) -> ProtocolError:
    from protocol import CertificateError

    return CertificateError(why)


def _install(data_dir: Path, answer: EnrolAnswer, county_url: str) -> None:
    keys = key_dir(data_dir)
    files = [
        ("root.cert", answer.root),
        ("county.cert", answer.county),
        ("parent.cert", answer.parent),
        ("node.cert", answer.node),
    ]
    if answer.issuing is not None:
        files.insert(1, (ISSUING_CERT, answer.issuing))
    for name, cert in files:
        write_atomic(keys / name, cert.raw)
    remember_county_url(data_dir, county_url)

# SPDX-License-Identifier: Apache-2.0
"""The A4 page of an enrolment invitation: what the PC's operator types, step by step.

Plain HTML with the QR code inline (SVG, segno), sized for A4 with ``@page``: it opens
in any browser, prints as it is or saves as PDF, and needs nothing from the network.
Every value on it is HTML-escaped (a node's name is officer input).
"""

from __future__ import annotations

import re
import shlex
from html import escape

from node.keys.dates import local_time
from protocol import NodeId


def enrol_command(node: NodeId, code: str, county_url: str, name: str) -> str:
    """The command the operator runs on the PC (shell-quoted)."""
    parts = ["renkou", "node", "enroll", "--node", node.code]
    if name:
        parts += ["--name", name]
    parts += ["--code", code]
    if county_url:
        parts += ["--county-url", county_url]
    return " ".join(_quoted(p) for p in parts)


def _quoted(part: str) -> str:
    """``part`` as a shell reads it: quoted only when it has to be (a Chinese name is
    typed as it is, not inside quotes an operator would have to copy too)."""
    return shlex.quote(part) if re.search(r"[\s'\"$`\\;&|<>(){}*?!#~\[\]]", part) else part


def invite_page(node: NodeId, name: str, code: str, expires_at: int, command: str) -> str:
    """The page, as HTML text."""
    import segno

    qr = segno.make(command, error="m").svg_inline(scale=4)
    when = escape(local_time(expires_at))
    who = escape(f"{node} {name}".strip())
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>电脑登记邀请 / PC enrolment invitation {escape(node.code)}</title>
<style>
@page {{ size: A4; margin: 20mm; }}
body {{ font-family: sans-serif; font-size: 12pt; line-height: 1.5; }}
.code {{ font: bold 28pt monospace; letter-spacing: 2pt; }}
pre {{ white-space: pre-wrap; border: 1px solid #999; padding: 6pt; font-size: 10pt; }}
.en {{ color: #444; font-size: 10pt; }}
</style></head><body>
<h1>电脑登记邀请 <span class="en">PC enrolment invitation</span></h1>
<p>节点 <span class="en">node</span>：<b>{who}</b></p>
<p>一次性邀请码 <span class="en">one-time code</span>：</p>
<p class="code">{escape(code)}</p>
<p>有效至 <span class="en">valid until</span>：{when}。只能使用一次，只能用于本节点。
<span class="en">It works once, for this node only.</span></p>
<h2>步骤 <span class="en">steps</span></h2>
<ol>
<li>在该电脑上安装 renkou-net，连接网络（乡镇或县级地址）。
<span class="en">Install renkou-net on the PC and connect it to the network.</span></li>
<li>打开命令行，输入下面的命令（或扫描二维码复制）：
<span class="en">Open a terminal and type this command (or scan the QR code):</span>
<pre>{escape(command)}</pre>{qr}</li>
<li>按提示为本机密钥设置口令（至少8个字符），并妥善保管。
<span class="en">Choose the passphrase of its keys when asked (8 or more characters).</span></li>
<li>看到“已登记”即完成，本机可以同步。
<span class="en">When it says enrolled, the PC is ready to sync.</span></li>
</ol>
<p>邀请码请勿拍照外传；用后本页可销毁。
<span class="en">Do not share the code; destroy this page once the PC is enrolled.</span></p>
</body></html>
"""

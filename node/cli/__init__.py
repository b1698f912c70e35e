# SPDX-License-Identifier: Apache-2.0
"""The node's command groups: ``renkou node …`` (officers) and ``renkou keys …``
(the county administrator).

The root ``renkou`` command, which also holds ``renkou county …`` and the demo, is
deploy/cli.py: node/ never imports county_aggregator/.
"""

from __future__ import annotations

from node.cli import prints as _prints  # noqa: F401  (adds retention destroy-prints)
from node.cli.keys import keys
from node.cli.node_commands import node

__all__ = ["keys", "node"]

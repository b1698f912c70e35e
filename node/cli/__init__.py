# SPDX-License-Identifier: Apache-2.0
"""The node's command groups: ``renkou node …`` (officers) and ``renkou keys …``
(the county administrator).

The root ``renkou`` command, which also holds ``renkou county …`` and the demo, is
deploy/cli.py: node/ never imports county_aggregator/.
"""

from __future__ import annotations

from node.cli import keys_county as _keys_county  # noqa: F401  (adds keys init-county)
from node.cli import keys_invite as _keys_invite  # noqa: F401  (adds keys invite)
from node.cli import prints as _prints  # noqa: F401  (adds retention destroy-prints)
from node.cli.households import change_head_command
from node.cli.keys import keys
from node.cli.keys_peers import fingerprint_command, trust_command
from node.cli.keys_renewal import list_command, renew_command, rotate_command
from node.cli.keys_schedule import sign_schedule_command
from node.cli.node_commands import node
from node.cli.node_enroll import enroll
from node.cli.node_keys import county_url_command, install_revocations_file, protect_keys
from node.cli.node_rotation import rotate_keys_command
from node.cli.review import review
from node.keys.unlock import set_prompt


def _ask(text: str, confirm: bool) -> str:
    """A passphrase at the terminal, never echoed (node/keys/unlock.py asks only when
    stdin is a terminal)."""
    import click

    return str(click.prompt(text, hide_input=True, confirmation_prompt=confirm, err=True))


set_prompt(_ask)

# A PC's own trust commands (node/cli/node_keys.py) join the officer's group here, so
# node_commands.py stays the records' and sync's.
node.add_command(install_revocations_file)
node.add_command(county_url_command)
node.add_command(protect_keys)
node.add_command(enroll)
node.add_command(rotate_keys_command)
node.add_command(change_head_command)  # one head per household (node/households.py)
node.add_command(review)  # the township's monthly review (node/review)
# The administrator's commands beyond enrolment and revocation, each in its own module.
keys.add_command(sign_schedule_command)
keys.add_command(trust_command)
keys.add_command(fingerprint_command)
keys.add_command(renew_command)
keys.add_command(rotate_command)
keys.add_command(list_command)

__all__ = ["keys", "node"]

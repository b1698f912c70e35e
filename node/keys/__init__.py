# SPDX-License-Identifier: Apache-2.0
"""Keys and trust material a node or an administrator handles outside of sync itself.

* revoking.py: the administrator's next revocation list, built and verified before
  anything is saved;
* published.py: the county's list fetched from its published address, so a village
  does not depend on its parent to learn that its parent was revoked;
* files.py: writing and checking the modes of key and trust files.
"""

# SPDX-License-Identifier: Apache-2.0
"""marshmallow schemas of the record kinds; use them through ``node.domain.records``."""

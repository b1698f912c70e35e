# SPDX-License-Identifier: Apache-2.0
"""What sits above the node and the county: the ``renkou`` command and the demo network.

design.md: node/ never imports county_aggregator/; deploy/ may import everything, as a
user would. So the root click group that puts ``renkou node …`` beside ``renkou county
…`` (deploy/cli.py) and the localhost demo county that runs both (deploy/demo.py) live
here. The rest of this folder is configuration (service units, nginx, gunicorn; see
deploy/README.md).
"""

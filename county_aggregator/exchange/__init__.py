# SPDX-License-Identifier: Apache-2.0
"""The floating-population exchange with other counties (篇10 第24-25条, SPEC.md §8.11).

``county_aggregator/store_exchange.py`` owns the exchange tables (county node's db);
``derive.py`` turns merged events into outgoing notifications; ``receive.py`` checks
and keeps what a peer county sends (over HTTP or on a file); ``send.py`` seals and
delivers; ``answers.py`` records the hukou place's answer; ``server.py`` is the HTTP
endpoint; ``cli.py`` the officer's commands.
"""

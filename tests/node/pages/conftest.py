# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.node.pages.helpers import Village, make_village


@pytest.fixture
def village(tmp_path: Path) -> Village:
    return make_village(tmp_path)


@pytest.fixture
def client(village: Village) -> FlaskClient:
    return village.app.test_client()

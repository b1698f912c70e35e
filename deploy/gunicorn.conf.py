# SPDX-License-Identifier: Apache-2.0
r"""gunicorn settings for a township or county sync server (settings only, no app logic).

Used by deploy/systemd/renkou-serve@.service, which names the app and its data dir:

    RENKOU_DATA_DIR=/var/lib/renkou/441322119 \
        gunicorn -c /etc/renkou/gunicorn.conf.py 'node.server:create_app()'

create_app() reads the data dir from RENKOU_DATA_DIR (set in /etc/renkou/<code>.env by
the unit) and refuses to start without it. gunicorn is optional and not a dependency of
renkou-net: install it into the same virtualenv (pip install gunicorn).
"""

import os

# Loopback only: nginx (deploy/nginx/) terminates TLS in front of it.
bind = [os.environ.get("RENKOU_BIND", "127.0.0.1:8440")]

# ONE worker process. Sync sessions and request counters live in the process's memory
# (node/server/sessions.py SessionTable): with two workers a request lands on a worker
# that never saw its session and gets 401 no_session. (Hello nonces are kept in the
# node's database, node/store/nonces.py, and outlive a restart.) Concurrency comes
# from threads. gunicorn itself has no header timeout: run it behind nginx
# (deploy/nginx/, client_header_timeout and per-address limits), never on its own.
workers = 1
worker_class = "gthread"
threads = 8

# nginx buffers whole requests and responses, so a slow 256 kbit/s village never holds
# a thread; these bound what the server itself spends on one request (a 9 MiB envelope
# is verified, opened and applied in seconds on a township PC).
timeout = 120
graceful_timeout = 60
keepalive = 15

# The sync API's request lines are short (/sync/v1/state?d=<digest>,
# /sync/v1/outbox?after=<n>) and its headers few (X-Rk-Session, X-Rk-Counter,
# X-Rk-Mac); bodies are bounded by the app (9 MiB, node/server MAX_REQUEST_BYTES).
limit_request_line = 2048
limit_request_fields = 32
limit_request_field_size = 4096

# Logs go to the journal. Request bodies are never logged; paths carry no personal data.
accesslog = "-"
errorlog = "-"
loglevel = "info"
proc_name = "renkou-serve"

# gunicorn >= 25.1 opens a control socket under $HOME by default; a hardened unit has
# no writable home, and nothing here uses gunicornc. Older gunicorn ignores this name.
control_socket_disable = True

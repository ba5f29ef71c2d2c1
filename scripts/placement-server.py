#!/usr/bin/python3
"""Serves Debian's OpenStack Placement (python3-placement) on loopback for TrustPool's tests.

Usage: placement-server.py PORT STATE_DIR
Writes STATE_DIR/placement.conf (auth_strategy = noauth2, SQLite database in STATE_DIR), runs the WSGI app
placement.wsgi.init_application() under wsgiref on 127.0.0.1:PORT. Requests carry X-Auth-Token: admin.
"""
import os
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - wsgiref's signature
        pass


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main():
    port = int(sys.argv[1])
    state = os.path.abspath(sys.argv[2])
    os.makedirs(state, exist_ok=True)
    with open(os.path.join(state, "placement.conf"), "w") as f:
        f.write("[api]\nauth_strategy = noauth2\n"
                "[placement_database]\nconnection = sqlite:///%s/placement.db\nsync_on_startup = True\n" % state)
    os.environ["OS_PLACEMENT_CONFIG_DIR"] = state
    from placement import wsgi
    app = wsgi.init_application()
    server = make_server("127.0.0.1", port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    print("placement listening on http://127.0.0.1:%d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

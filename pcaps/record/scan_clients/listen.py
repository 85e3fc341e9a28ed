#!/usr/bin/python3
"""Accepts TCP connections on the given ports (every address of the
namespace) and closes each after reading nothing: a port that answers a
SYN scan's SYN with SYN-ACK, as an open database port does.
    listen.py PORT..."""
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1024)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        try:
            conn, _ = key.fileobj.accept()
            conn.close()
        except OSError:
            pass

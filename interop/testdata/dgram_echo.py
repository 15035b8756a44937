# A datagram echo server: every datagram goes back, unchanged and whole, to
# its sender. Usage: dgram_echo.py inet HOST (binds port 0 and prints it)
# or dgram_echo.py unix PATH (prints "ready" once bound).
import socket
import sys

kind, where = sys.argv[1], sys.argv[2]
if kind == "unix":
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(where)
    print("ready", flush=True)
else:
    family = socket.AF_INET6 if ":" in where else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((where, 0))
    print("listening on port:", sock.getsockname()[1], flush=True)

while True:
    data, addr = sock.recvfrom(65536)
    if addr:  # an unbound Unix sender has no address to answer
        sock.sendto(data, addr)

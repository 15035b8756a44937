# A peer that aborts: once it has received the line "go\n", it sends 1000
# bytes of "x" and closes with SO_LINGER 0, which sends a TCP RST instead
# of a FIN. Waiting for "go" first makes sure the connection is fully
# established on the other side before it is reset.
# Usage: reset_peer.py server          (binds port 0 and prints it)
#        reset_peer.py client PORT     (connects to 127.0.0.1:PORT)
import socket
import struct
import sys

if sys.argv[1] == "server":
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    print("listening on port:", srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
else:
    conn = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    print("local port:", conn.getsockname()[1], flush=True)

got = b""
while not got.endswith(b"go\n"):
    chunk = conn.recv(100)
    if not chunk:
        sys.exit("connection closed before \"go\"")
    got += chunk
conn.sendall(b"x" * 1000)
conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
conn.close()
print("reset sent", flush=True)

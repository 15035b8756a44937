# The TCP server.py of the seed tutorial (seed/000_024b3af4fdc338f2.txt),
# with its two bugs fixed: bind takes one (host, port) tuple, and the
# "listening" print lacked its closing quote. It binds port 0 and prints the
# port the system chose, so tests never depend on a fixed port. An optional
# argument gives the host (default 127.0.0.1; "::1" selects AF_INET6).
import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
family = socket.AF_INET6 if ":" in host else socket.AF_INET

server_socket = socket.socket(family, socket.SOCK_STREAM)
server_socket.bind((host, 0))
server_socket.listen()

print("Server is listening on port:", server_socket.getsockname()[1], flush=True)

conn, addr = server_socket.accept()
print("Connected by ", addr)

data = conn.recv(1024).decode()
print("Recieved: ", data)

conn.sendall(f"Echo: {data}.".encode())
conn.close()

# The TCP client.py of the seed tutorial, connecting to the port given as
# the first argument (host: second argument, default 127.0.0.1).
import socket
import sys

port = int(sys.argv[1])
host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
family = socket.AF_INET6 if ":" in host else socket.AF_INET

client_socket = socket.socket(family, socket.SOCK_STREAM)
client_socket.connect((host, port))  # <-- connect (not bind)

client_socket.sendall(b"Hello TCP Server")
response = client_socket.recv(1024).decode()
print("Server says:", response)

client_socket.close()

# The UDP client.py of the seed tutorial, sending to the port given as the
# first argument. The timeout only keeps it from outliving a test whose
# peer never answers (the seed would wait forever).
import socket
import sys

port = int(sys.argv[1])

client_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client_socket.settimeout(15)

client_socket.sendto(b"Hello UDP server", ("127.0.0.1", port))
try:
    data, addr = client_socket.recvfrom(1024)
    print("server says: ", data.decode())
except socket.timeout:
    print("no reply")

client_socket.close()

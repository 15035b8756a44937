# A Unix datagram client: it binds an autobound (abstract) address so that
# replies can reach it, sends its second argument to the socket path given
# first, and prints the reply. Usage: unix_dgram_client.py PATH MESSAGE
import socket
import sys

path, message = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind("")  # Linux autobind: a unique abstract address
sock.settimeout(15)
sock.sendto(message.encode(), path)
try:
    data = sock.recv(65536)
    print("reply:", data.decode())
except socket.timeout:
    print("no reply")

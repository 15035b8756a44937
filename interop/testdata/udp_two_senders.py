# Two UDP senders to the port given as the first argument: the first
# sends, then the second. Then it prints what the first received (waiting
# for it) and what the second had received by then, which on loopback is
# everything ever sent to it, since a send queues the datagram at once.
import socket
import sys

port = int(sys.argv[1])
first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
second = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
first.sendto(b"from the first sender\n", ("127.0.0.1", port))
second.sendto(b"from the second sender\n", ("127.0.0.1", port))

first.settimeout(15)
try:
    data, _ = first.recvfrom(1024)
    print("first got:", data.decode().strip())
except socket.timeout:
    print("first got: nothing")

second.setblocking(False)
try:
    data, _ = second.recvfrom(1024)
    print("second got:", data.decode().strip())
except BlockingIOError:
    print("second got: nothing")

# The UDP server.py of the seed tutorial, bound to port 0: it prints the
# port the system chose, then answers every datagram.
import socket

server_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server_socket.bind(("127.0.0.1", 0))

print("UDP server is listening on port :", server_socket.getsockname()[1], flush=True)

while True:
    data, addr = server_socket.recvfrom(1024)  # Recieve packet + client address
    print(f"Recieved from {addr}: {data.decode()}", flush=True)
    server_socket.sendto(f"Recieved you Message: {data.decode()}".encode(), addr)

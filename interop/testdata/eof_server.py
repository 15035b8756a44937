# A server that answers only once the request has ended: it reads until
# EOF (the client's half-close), then sends the reply and closes. A client
# that never half-closes waits forever. The reply is the request itself
# framed as HTTP, followed by a 200,000-byte body (byte i is i % 251), so
# it spans many segments.
import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
family = socket.AF_INET6 if ":" in host else socket.AF_INET

srv = socket.socket(family, socket.SOCK_STREAM)
srv.bind((host, 0))
srv.listen()
print("listening on port:", srv.getsockname()[1], flush=True)

conn, _ = srv.accept()
request = b""
while True:
    chunk = conn.recv(65536)
    if not chunk:
        break
    request += chunk

body = bytes(i % 251 for i in range(200000))
conn.sendall(b"HTTP/1.0 200 OK\r\nX-Request: " + request.strip() + b"\r\n\r\n" + body)
conn.close()
print("request was %d bytes" % len(request), flush=True)

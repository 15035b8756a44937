# A deliberately slow consumer of stdin: it reads small chunks with a pause
# after each, so the pipe in front of it fills and the writer must wait.
# It prints the byte count and SHA-256 of everything it read.
import hashlib
import sys
import time

h = hashlib.sha256()
total = 0
stdin = sys.stdin.buffer
while True:
    chunk = stdin.read1(32768)
    if not chunk:
        break
    h.update(chunk)
    total += len(chunk)
    time.sleep(0.001)
print(total, h.hexdigest())

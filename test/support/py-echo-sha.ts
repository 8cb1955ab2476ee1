// Kernel client for an echo server: sends argv[3] random bytes to argv[1]:argv[2] (a thread
// writes while the main thread reads), half-closes, reads the echo to EOF; prints whether the
// SHA-256 of what came back matches what went, and how many bytes came back.
export const PY_ECHO_SHA = `
import hashlib, json, os, socket, sys, threading
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=60)
data = os.urandom(n)
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
h = hashlib.sha256(); got = 0
while True:
    b = s.recv(65536)
    if not b: break
    h.update(b); got += len(b)
t.join()
print(json.dumps({"match": h.hexdigest() == hashlib.sha256(data).hexdigest(), "got": got}))
`;

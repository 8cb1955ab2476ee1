// Python HTTP clients run in the test bed's peer namespace (the kernel's TCP), for what curl
// cannot do: pipelining, walking away mid-response, stopping halfway through a header. Each
// takes host and port, works under a bounded deadline and prints one JSON line.

/** Two requests in one send; prints the bodies in the order they came back. */
export const PY_PIPELINE = `
import json, re, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"GET /first HTTP/1.1\\r\\nHost: engine\\r\\n\\r\\n"
          b"GET /second HTTP/1.1\\r\\nHost: engine\\r\\nConnection: close\\r\\n\\r\\n")
data = b""
deadline = time.time() + 10
while time.time() < deadline:
    d = s.recv(65536)
    if not d:
        break
    data += d
text = data.decode("latin1")
print(json.dumps({"statuses": re.findall(r"HTTP/1.1 (\\d+)", text),
                  "bodies": re.findall(r"GET /\\w+", text)}))
`;

/** Reads `want` bytes of a response, then closes with the rest unread (the kernel sends a RST). */
export const PY_WALK_AWAY = `
import json, socket, sys
host, port, test_id, want = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.create_connection((host, port), timeout=10)
s.sendall(("GET /slow HTTP/1.1\\r\\nHost: engine\\r\\nX-Test-Id: %s\\r\\n\\r\\n" % test_id).encode())
got = 0
while got < want:
    d = s.recv(65536)
    if not d:
        break
    got += len(d)
s.close()
print(json.dumps({"got": got}))
`;

/**
 * Sends \`request\` (then a FIN, with a 4th argument "half-close") and waits up to 8 s for the
 * server to close; prints how long the close took after the send and the status lines received.
 */
export const PY_WAIT_FOR_CLOSE = `
import json, re, socket, sys, time
host, port, request = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode().decode("unicode_escape")
s = socket.create_connection((host, port), timeout=8)
s.sendall(request.encode("latin1"))
if sys.argv[4:] == ["half-close"]:
    s.shutdown(socket.SHUT_WR)
t0 = time.time()
data, closed = b"", False
try:
    while True:
        d = s.recv(65536)
        if not d:
            closed = True
            break
        data += d
except (socket.timeout, ConnectionResetError):
    pass
print(json.dumps({"closed": closed, "seconds": round(time.time() - t0, 3),
                  "statuses": re.findall(r"HTTP/1.1 (\\d+)", data.decode("latin1"))}))
`;

/**
 * Leaves one keep-alive connection idle after a request, then asks for /close-server on a second
 * one; prints the second's response and how long after it the idle connection was closed.
 */
export const PY_CLOSE_WITH_IDLE = `
import json, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
def exchange(s, path):
    s.sendall(("GET %s HTTP/1.1\\r\\nHost: engine\\r\\n\\r\\n" % path).encode())
    data = b""
    while not data.endswith((b"idle\\n", b"closing\\n")):
        d = s.recv(65536)
        if not d:
            break
        data += d
    return data.decode("latin1")
idle = socket.create_connection((host, port), timeout=10)
first = exchange(idle, "/first")
closer = socket.create_connection((host, port), timeout=10)
answer = exchange(closer, "/close-server")
t0 = time.time()
idle.settimeout(8)
try:
    closed = idle.recv(1) == b""
except socket.timeout:
    closed = False
print(json.dumps({"first": first.endswith("idle\\n"), "answer": answer.endswith("closing\\n"),
                  "idleClosed": closed, "idleClosedAfter": round(time.time() - t0, 3)}))
`;

/**
 * Asks for /first, then /socket on the same connection; prints the connection's two ends as the
 * kernel sees them, the bytes exchanged before /socket, and the server's JSON.
 */
export const PY_SOCKET_FACTS = `
import json, re, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
def more(data):
    d = s.recv(65536)
    if not d:
        sys.exit("the server closed the connection early")
    return data + d
def exchange(path):
    req = ("GET %s HTTP/1.1\\r\\nHost: engine\\r\\n\\r\\n" % path).encode()
    s.sendall(req)
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        data = more(data)
    head, body = data.split(b"\\r\\n\\r\\n", 1)
    length = int(re.search(rb"content-length: *(\\d+)", head, re.I).group(1))
    while len(body) < length:
        body = more(body)
    return len(req), len(head) + 4 + len(body), body
sent1, got1, _ = exchange("/first")
sent2, _, body = exchange("/socket")
print(json.dumps({"client": list(s.getsockname()[:2]), "server": list(s.getpeername()[:2]),
                  "sent": sent1 + sent2, "gotBefore": got1, "facts": json.loads(body)}))
`;

/**
 * Against a server with maxConnections 1: one connection is served; a second one, opened while
 * the first stays, is closed at once; the first is still served. Prints what each saw.
 */
export const PY_OVER_THE_LIMIT = `
import json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
def ask(s):
    s.sendall(b"GET / HTTP/1.1\\r\\nHost: engine\\r\\n\\r\\n")
    data = b""
    while not data.endswith(b"limited\\n"):
        d = s.recv(65536)
        if not d:
            break
        data += d
    return data.endswith(b"limited\\n")
first = socket.create_connection((host, port), timeout=5)
served = ask(first)
second = socket.create_connection((host, port), timeout=5)
try:
    second_closed = second.recv(1) == b""
except ConnectionResetError:
    second_closed = True
print(json.dumps({"served": served, "secondClosed": second_closed,
                  "secondPort": second.getsockname()[1], "firstStillServed": ask(first)}))
`;

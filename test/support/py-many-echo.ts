// Kernel client for an echo server at scale: opens argv[3] connections to argv[1]:argv[2] at
// once (selectors, one thread), each sending its own short message and waiting for exactly that
// back; all are held open until every one has echoed (or failed, or argv[5] seconds passed),
// then argv[4] seconds more so the server sees them all at once, then closed. Prints the counts,
// the seconds until all were connected and until all were done, and the errors by errno name.
export const PY_MANY_ECHO = `
import errno, json, resource, selectors, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hold, limit = float(sys.argv[4]), float(sys.argv[5])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
sel = selectors.DefaultSelector()
t0 = time.monotonic()
deadline = t0 + limit
state = {}
for i in range(n):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((host, port))
    msg = ("conn-%05d;" % i).encode()
    state[s] = {"msg": msg, "sent": False, "got": b""}
    sel.register(s, selectors.EVENT_WRITE)
connected = echoed = errors = 0
connect_s = None
kinds = {}
while echoed + errors < n and time.monotonic() < deadline:
    for key, ev in sel.select(timeout=1):
        s = key.fileobj; st = state[s]
        try:
            if not st["sent"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err: raise OSError(err, "connect")
                connected += 1
                if connected == n: connect_s = time.monotonic() - t0
                s.send(st["msg"]); st["sent"] = True
                sel.modify(s, selectors.EVENT_READ)
            else:
                b = s.recv(64)
                if not b: raise OSError(0, "eof")
                st["got"] += b
                if st["got"] == st["msg"]:
                    echoed += 1; sel.unregister(s)
        except OSError as e:
            errors += 1; sel.unregister(s)
            kinds[errno.errorcode.get(e.errno, str(e))] = kinds.get(errno.errorcode.get(e.errno, str(e)), 0) + 1
all_s = time.monotonic() - t0
open_at_end = sum(1 for s in state if s.fileno() >= 0)
time.sleep(hold)
for s in state: s.close()
print(json.dumps({"connected": connected, "echoed": echoed, "errors": errors, "open": open_at_end,
                  "connectSeconds": connect_s, "allSeconds": round(all_s, 2), "kinds": kinds}))
`;

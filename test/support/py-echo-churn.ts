// Kernel client for a TCP echo server under churn: opens argv[3] connections to argv[1]:argv[2]
// (argv[1] may list several addresses, comma-separated: connection i goes to the i-th modulo
// their count, IPv4 and IPv6 alike) at argv[4] per second, each sending argv[5] messages of its own bytes (one at a time, the next
// argv[6] seconds after the echo of the last), checking every echoed byte, then closing. Gives
// up after argv[7] seconds. Prints a progress line {"opened", "done"} every 100 ms while it runs
// (so a test can act at a point of the run), then one result line with "result": true:
// connects that failed, connections that failed later (by errno name), bytes sent and echoed,
// echoes that differed.
export const PY_ECHO_CHURN = `
import errno, json, resource, selectors, socket, sys, time
hosts, port, n = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3])
rate, rounds, gap, limit = float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
sel = selectors.DefaultSelector()
t0 = time.monotonic()
deadline = t0 + limit
c = {"opened": 0, "connected": 0, "connectFailed": 0, "done": 0, "failed": 0,
     "sentBytes": 0, "echoedBytes": 0, "mismatches": 0}
kinds = {}
resting = {}

def message(i, r):
    size = 200 + (i * 7 + r * 131) % 1200
    return bytes((i + r + k) & 0xff for k in range(size))

def send_round(s, st):
    st["want"] = message(st["i"], st["round"]); st["got"] = b""
    s.sendall(st["want"]); c["sentBytes"] += len(st["want"])
    sel.register(s, selectors.EVENT_READ, st)

def fail(s, st, e):
    key = "connect" if st["connecting"] else "data"
    c["connectFailed" if st["connecting"] else "failed"] += 1
    name = key + ":" + errno.errorcode.get(e.errno, str(e))
    kinds[name] = kinds.get(name, 0) + 1
    try: sel.unregister(s)
    except (KeyError, ValueError): pass
    resting.pop(s, None); s.close()

last = 0
while c["done"] + c["failed"] + c["connectFailed"] < n and time.monotonic() < deadline:
    now = time.monotonic()
    while c["opened"] < n and now >= t0 + c["opened"] / rate:
        host = hosts[c["opened"] % len(hosts)]
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False); s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_WRITE, {"i": c["opened"], "round": 0, "connecting": True})
        c["opened"] += 1
    for s, st in list(resting.items()):
        if now >= st["wake"]:
            del resting[s]
            try: send_round(s, st)
            except OSError as e: fail(s, st, e)
    for key, ev in sel.select(timeout=0.01):
        s, st = key.fileobj, key.data
        try:
            if st["connecting"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err: raise OSError(err, "connect")
                st["connecting"] = False; c["connected"] += 1
                s.setblocking(True); sel.unregister(s); send_round(s, st)
                continue
            b = s.recv(65536)
            if not b: raise OSError(0, "eof")
            st["got"] += b
            if len(st["got"]) < len(st["want"]): continue
            if st["got"] != st["want"]:
                c["mismatches"] += 1; raise OSError(0, "mismatch")
            c["echoedBytes"] += len(st["want"]); st["round"] += 1; sel.unregister(s)
            if st["round"] == rounds:
                s.close(); c["done"] += 1
            else:
                st["wake"] = time.monotonic() + gap; resting[s] = st
        except OSError as e:
            fail(s, st, e)
    if now - last >= 0.1:
        last = now
        print(json.dumps({"opened": c["opened"], "done": c["done"]}), flush=True)
c["seconds"] = round(time.monotonic() - t0, 2)
print(json.dumps(dict(c, kinds=kinds, result=True)), flush=True)
`;

// Kernel client for a UDP echo server at scale: argv[3] sockets, each its own flow (its own
// source port), each sending its own short datagram to argv[1]:argv[2] and waiting for exactly
// that back. Flows without an answer resend every half second until argv[4] seconds have passed:
// a resend of a flow takes the same path as its first datagram (same 4-tuple, same queue), so
// only a lost datagram, never a flow the engine does not serve, is saved by it. Prints the
// counts as JSON.
export const PY_UDP_FLOWS = `
import json, selectors, socket, sys, time
host, port, n, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
sel = selectors.DefaultSelector()
pending = {}
for i in range(n):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setblocking(False)
    pending[s] = ("udp-flow-%05d;" % i).encode()
    sel.register(s, selectors.EVENT_READ)
answered = wrong = sends = 0
deadline = time.monotonic() + limit
while pending and time.monotonic() < deadline:
    for s, msg in pending.items():
        s.sendto(msg, (host, port)); sends += 1
    resend_at = min(deadline, time.monotonic() + 0.5)
    while pending and time.monotonic() < resend_at:
        for key, _ in sel.select(timeout=max(0.0, resend_at - time.monotonic())):
            s = key.fileobj
            try:
                data = s.recv(2048)
            except BlockingIOError:
                continue
            if data == pending.get(s):
                answered += 1; del pending[s]; sel.unregister(s)
            else:
                wrong += 1
print(json.dumps({"answered": answered, "unanswered": len(pending), "wrong": wrong, "sends": sends}))
`;

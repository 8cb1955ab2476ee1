// Kernel UDP client for an echo server, run in the peer namespace: sends each size of argv[2]
// (comma-separated) to argv[1] port 7 with a random payload, up to three tries each, checks the
// echo byte for byte, and prints one JSON line {"ok", "bad", "lost"}.
export const PY_UDP_ECHO_CLIENT = `
import json, os, socket, sys
family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.settimeout(2)
ok = bad = lost = 0
for size in [int(x) for x in sys.argv[2].split(',')]:
    for attempt in range(3):
        data = os.urandom(size)
        s.sendto(data, (sys.argv[1], 7))
        try:
            got, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        if got == data: ok += 1
        else: bad += 1
        break
    else:
        lost += 1
print(json.dumps({"ok": ok, "bad": bad, "lost": lost}))
`;

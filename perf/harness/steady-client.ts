// The normal client of a fuzz campaign, in the peer namespace: while the fuzzer runs it keeps
// exchanging data with the engine's echo app (port 7) and checks every echo. Persistent TCP
// connections over IPv4 and IPv6 send messages of random length and read back exactly those
// bytes; every few rounds a fresh connection is opened, used and closed; UDP datagrams over both
// families carry a sequence number and are resent (up to 8 times, 250 ms apart) until their own
// echo comes back. It prints `ready` once a first round has gone through, and its counts as one
// JSON line when its stdin closes (or after argv[3] seconds).
//   argv: engine IPv4, engine IPv6, port, max seconds
export const PY_STEADY_CLIENT = String.raw`
import json, os, socket, sys, threading, time
v4, v6, port, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
stop = threading.Event()
def watch():
    sys.stdin.read()
    stop.set()
threading.Thread(target=watch, daemon=True).start()
c = dict(rounds=0, tcpMessages=0, tcpBytes=0, tcpErrors=0, tcpMismatches=0, tcpReconnects=0,
         freshConnections=0, freshFailures=0, udpSent=0, udpEchoed=0, udpResends=0, udpLost=0,
         udpWrong=0, udpLate=0)
errors = []
def note(kind, e):
    if len(errors) < 20: errors.append("%s: %r" % (kind, e))
def connect(host):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s
def first_connect(host):
    # The engine's IPv6 address may still be in duplicate address detection: retry for 10 s.
    for attempt in range(100):
        try: return connect(host)
        except OSError:
            if attempt == 99: raise
            time.sleep(0.1)
def exchange(s, n):
    data = os.urandom(n)
    s.sendall(data)
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b: raise OSError("eof after %d of %d bytes" % (len(got), n))
        got += b
    c["tcpMessages"] += 1; c["tcpBytes"] += n
    if got != data:
        c["tcpMismatches"] += 1; note("mismatch", n)
hosts = [v4, v6, v4, v6]
conns = [first_connect(h) for h in hosts]
udp = []
for fam, host in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
    u = socket.socket(fam, socket.SOCK_DGRAM); u.settimeout(0.25); udp.append((u, host))
useq = 0
def udp_round(u, host):
    global useq
    useq += 1
    msg = b"steady-%08d-" % useq + os.urandom(32)
    c["udpSent"] += 1
    for attempt in range(8):
        if attempt: c["udpResends"] += 1
        u.sendto(msg, (host, port))
        deadline = time.monotonic() + 0.25
        while time.monotonic() < deadline:
            try:
                b = u.recv(2048)
            except socket.timeout:
                break
            if b == msg:
                c["udpEchoed"] += 1; return
            if b.startswith(b"steady-") and int(b[7:15]) < useq: c["udpLate"] += 1
            else: c["udpWrong"] += 1; note("udp wrong", b[:20])
    c["udpLost"] += 1; note("udp lost", useq)
t0 = time.monotonic()
first = True
while not stop.is_set() and time.monotonic() - t0 < limit:
    for i, s in enumerate(conns):
        try:
            exchange(s, 1 + int.from_bytes(os.urandom(2), "big") % 3000)
        except OSError as e:
            c["tcpErrors"] += 1; note("tcp", e)
            try: s.close()
            except OSError: pass
            try:
                conns[i] = connect(hosts[i]); c["tcpReconnects"] += 1
            except OSError as e2:
                note("reconnect", e2)
    for u, host in udp: udp_round(u, host)
    if c["rounds"] % 10 == 0:
        c["freshConnections"] += 1
        try:
            s = connect(hosts[c["rounds"] // 10 % 2]); exchange(s, 100); s.close()
        except OSError as e:
            c["freshFailures"] += 1; note("fresh", e)
    c["rounds"] += 1
    if first:
        first = False; print("ready", flush=True)
    time.sleep(0.005)
for s in conns: s.close()
c["errors"] = errors
c["seconds"] = round(time.monotonic() - t0, 3)
print(json.dumps(c), flush=True)
`;

/** What the steady client counted. */
export interface SteadyClientReport {
  rounds: number;
  tcpMessages: number;
  tcpBytes: number;
  tcpErrors: number;
  tcpMismatches: number;
  tcpReconnects: number;
  freshConnections: number;
  freshFailures: number;
  udpSent: number;
  udpEchoed: number;
  udpResends: number;
  udpLost: number;
  udpWrong: number;
  udpLate: number;
  errors: string[];
  seconds: number;
}

/** Problems in a steady client's report: every echo must have come back, and come back right. */
export function steadyClientProblems(r: SteadyClientReport): string[] {
  const problems: string[] = [];
  if (r.rounds === 0) problems.push('the client finished no round');
  if (r.tcpErrors > 0) problems.push(`${r.tcpErrors} TCP errors`);
  if (r.tcpMismatches > 0) problems.push(`${r.tcpMismatches} TCP echoes differed`);
  if (r.freshFailures > 0) problems.push(`${r.freshFailures} fresh connections failed`);
  if (r.udpLost > 0) problems.push(`${r.udpLost} UDP datagrams never echoed`);
  if (r.udpWrong > 0) problems.push(`${r.udpWrong} wrong UDP echoes`);
  if (problems.length > 0 && r.errors.length > 0) problems.push(`first: ${r.errors.join('; ')}`);
  return problems;
}

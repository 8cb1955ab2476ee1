# Kernel-side TCP load for the perf modes (run in the test bed's peer namespace). Every loop is
# bounded by a count and by time. Prints one JSON line.
#   tcp_load.py rr HOST PORT COUNT SECONDS      1-byte ping-pong on one TCP_NODELAY connection
#   tcp_load.py crr HOST PORT COUNT SECONDS     connect, 1-byte request/response, close; repeat
#   tcp_load.py stream HOST PORT SECONDS        send for SECONDS, half-close, wait for the sink's FIN
import json, socket, sys, time

def family(host):
    return socket.AF_INET6 if ':' in host else socket.AF_INET

def pct(sorted_us, p):
    if not sorted_us:
        return None
    return round(sorted_us[min(len(sorted_us) - 1, int(len(sorted_us) * p))], 1)

def latency_report(lat_ns, elapsed, errors):
    lat_us = sorted(x / 1000 for x in lat_ns)
    return {"requests": len(lat_ns), "errors": errors, "seconds": round(elapsed, 3),
            "rps": round(len(lat_ns) / elapsed) if elapsed > 0 else 0,
            "p50_us": pct(lat_us, 0.5), "p99_us": pct(lat_us, 0.99), "p999_us": pct(lat_us, 0.999)}

def recv_exact(s, n):
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            raise ConnectionError("peer closed")
        got += b
    return got

def rr(host, port, count, seconds):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(100):  # warm-up: ARP/ND, slow start, JIT on the server side
        s.sendall(b"x"); recv_exact(s, 1)
    lat, errors = [], 0
    t0 = time.perf_counter(); end = t0 + seconds
    pc = time.perf_counter_ns
    while len(lat) < count:
        a = pc()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            errors += 1
            break
        lat.append(pc() - a)
        if (len(lat) & 255) == 0 and time.perf_counter() > end:
            break
    elapsed = time.perf_counter() - t0
    s.close()
    return latency_report(lat, elapsed, errors)

def crr(host, port, count, seconds):
    lat, errors = [], 0
    t0 = time.perf_counter(); end = t0 + seconds
    pc = time.perf_counter_ns
    while len(lat) + errors < count and time.perf_counter() < end:
        a = pc()
        s = socket.socket(family(host), socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((host, port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(b"x")
            if s.recv(1) != b"x":
                raise ConnectionError("bad echo")
            s.close()
            lat.append(pc() - a)
        except OSError:
            errors += 1
            s.close()
    return latency_report(lat, time.perf_counter() - t0, errors)

def stream(host, port, seconds):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    buf = b"\xa5" * (256 * 1024)
    sent = 0
    t0 = time.perf_counter(); end = t0 + seconds
    while time.perf_counter() < end:
        s.sendall(buf)
        sent += len(buf)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):  # the sink ends after it has read everything
        pass
    elapsed = time.perf_counter() - t0
    s.close()
    return {"bytes": sent, "seconds": round(elapsed, 3), "bps": round(sent * 8 / elapsed)}

def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "rr":
        out = rr(host, port, int(sys.argv[4]), float(sys.argv[5]))
    elif mode == "crr":
        out = crr(host, port, int(sys.argv[4]), float(sys.argv[5]))
    elif mode == "stream":
        out = stream(host, port, float(sys.argv[4]))
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(out), flush=True)

main()

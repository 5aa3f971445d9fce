#!/usr/bin/env python3
"""Hostile bodies against a release `closeloop serve` (issue 14 item 3): what each probe
is answered, how long case updates sent alongside waited, and the process's peak RSS
(VmHWM), with a fresh process and database per probe so each peak is its own.

    cargo build --release -p closeloop && python3 bench/hostile_bodies.py

Python 3 standard library only. BIN overrides the binary ($CARGO_TARGET_DIR/release/
closeloop by default), PORT the first port used, ONLY=name[,name] runs some probes.
"""

import hashlib
import hmac
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "closeloop")
CONFIG = os.path.join(ROOT, "examples", "closeloop.yaml")
APP_SECRET = b"sandbox-secret"  # the demo config's sandbox account
MIB = 1024 * 1024
WEBHOOK_LIMIT = MIB


class Service:
    """A `closeloop serve` on a fresh SQLite file."""

    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="hostile-")
        self.db = os.path.join(self.dir, "probe.db")
        self.log = open(os.path.join(self.dir, "serve.log"), "wb")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", CONFIG, "--database", "sqlite://" + self.db,
             "--listen", "127.0.0.1:%d" % port],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url("/healthz"), timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the service did not start; see " + self.log.name)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def status_kib(self, field):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def db_bytes(self):
        return sum(os.path.getsize(self.db + s) for s in ("", "-wal", "-shm")
                   if os.path.exists(self.db + s))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def send(port, method, path, body, headers=None, timeout=600):
    """Sends a request over a raw socket, stopping the upload as soon as an answer comes
    (a server refusing a large body answers before reading it); returns (status, body)."""
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\nConnection: close\r\n" % (
        method, path, len(body))
    for k, v in (headers or {}).items():
        head += "%s: %s\r\n" % (k, v)
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall((head + "\r\n").encode())
    view, sent = memoryview(body), 0
    answer = b""
    while sent < len(body):
        readable, writable, _ = select.select([s], [s], [], timeout)
        if readable:
            break
        if writable:
            try:
                sent += s.send(view[sent:sent + 256 * 1024])
            except OSError:
                break
    s.settimeout(timeout)
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    s.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head.startswith(b"HTTP/") else 0
    if b"transfer-encoding: chunked" in head.lower():
        rest = dechunk(rest)
    return status, rest


def dechunk(data):
    out, i = bytearray(), 0
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            return bytes(out)
        size = int(data[i:j].split(b";")[0] or b"0", 16)
        if size == 0:
            return bytes(out)
        out += data[j + 2:j + 2 + size]
        i = j + 2 + size + 2


def case(i, phone="+34600000001", status="Open", extra=""):
    return ('{"id":"C-%d","number":"%d","status":"%s","case_type":"billing","queue":"tier1",'
            '"assignee":"agent-%d","region":"EMEA","profile":{"first_name":"Ana","phone":"%s",'
            '"language":"es"}%s}' % (i, i, status, i % 7, phone, extra))


def signed(body):
    return {"Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + hmac.new(APP_SECRET, body, hashlib.sha256).hexdigest()}


def webhook(value):
    return json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": "WABA", "changes": [{"field": "messages", "value": dict(
            {"messaging_product": "whatsapp"}, **value)}]}]}).encode()


def statuses(n):
    return webhook({"statuses": [
        {"id": "wamid.HBgL%012d" % i, "status": "delivered", "timestamp": "1732000000",
         "recipient_id": "34600000001"} for i in range(n)]})


def inbound_text(text, phone_digits="34600000001"):
    return webhook({"contacts": [{"profile": {"name": "Ana"}, "wa_id": phone_digits}],
                    "messages": [{"from": phone_digits, "id": "wamid.in%d" % time.time_ns(),
                                  "timestamp": "1732000000", "type": "text", "text": {"body": text}}]})


class Alongside:
    """PUTs a small case every 50 ms until stopped, timing each."""

    def __init__(self, port):
        self.port, self.times, self.stopped = port, [], False
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stopped:
            i += 1
            start = time.monotonic()
            status, _ = send(self.port, "PUT", "/api/v1/cases/ALONG-%d" % i,
                             case(900000 + i).replace('"C-%d"' % (900000 + i), '"ALONG-%d"' % i).encode(),
                             {"Content-Type": "application/json"})
            if status in (200, 202):
                self.times.append(time.monotonic() - start)
            time.sleep(0.05)

    def stop(self):
        self.stopped = True
        self.thread.join()
        if not self.times:
            return "no PUT answered"
        return "%d PUTs alongside, max %.2f s" % (len(self.times), max(self.times))


def summary(status, body):
    try:
        answer = json.loads(body)
    except ValueError:
        return "%d (%d bytes, not JSON)" % (status, len(body))
    if "error" in answer:
        return "%d %s" % (status, answer["error"]["code"])
    if "accepted" in answer:
        return "%d accepted %d, rejected %d (answer %.1f MB)" % (
            status, answer["accepted"], answer["rejected"], len(body) / 1e6)
    return "%d %s" % (status, json.dumps(answer)[:60])


def probe_case_60mb(svc):
    body = case(1, extra=',"custom":{"blob":"%s"}' % ("x" * (60 * 1000 * 1000))).encode()
    return summary(*send(svc.port, "PUT", "/api/v1/cases/C-1", body, {"Content-Type": "application/json"}))


def probe_four_cases_20mb(svc):
    results = [None] * 4

    def one(k):
        body = case(k, extra=',"custom":{"blob":"%s"}' % ("x" * (20 * 1000 * 1000))).encode()
        results[k] = summary(*send(svc.port, "PUT", "/api/v1/cases/C-%d" % k, body,
                                   {"Content-Type": "application/json"}))
    threads = [threading.Thread(target=one, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return "; ".join(sorted(set(results)))


def probe_batch_50mb(svc):
    lines, size, i = [], 0, 0
    while size < 50 * 1000 * 1000:
        i += 1
        line = case(i, phone="+3460%07d" % i, extra=',"custom":{"note":"%s"}' % ("n" * 40))
        lines.append(line)
        size += len(line) + 1
    body = ("\n".join(lines) + "\n").encode()
    del lines
    along = Alongside(svc.port)
    start = time.monotonic()
    answer = summary(*send(svc.port, "POST", "/api/v1/cases:batch", body,
                           {"Content-Type": "application/x-ndjson"}))
    took = time.monotonic() - start
    return "%d lines, %.0f MB: %s in %.1f s; %s" % (i, len(body) / 1e6, answer, took, along.stop())


def probe_webhook_64mb(svc):
    body = inbound_text("x" * (64 * 1000 * 1000))
    return summary(*send(svc.port, "POST", "/webhooks/whatsapp", body, signed(body)))


def open_cases_for_one_number(svc, n=20):
    for k in range(n):
        send(svc.port, "PUT", "/api/v1/cases/C-%d" % k, case(k).encode(), {"Content-Type": "application/json"})


def probe_inbound_10mb(svc):
    open_cases_for_one_number(svc)
    before = svc.db_bytes()
    body = inbound_text("x" * (10 * 1000 * 1000))
    answer = summary(*send(svc.port, "POST", "/webhooks/whatsapp", body, signed(body)))
    return "%s; database +%.1f MB" % (answer, (svc.db_bytes() - before) / 1e6)


def probe_inbound_largest(svc):
    open_cases_for_one_number(svc)
    before = svc.db_bytes()
    overhead = len(inbound_text(""))
    body = inbound_text("x" * (WEBHOOK_LIMIT - overhead - 64))
    answer = summary(*send(svc.port, "POST", "/webhooks/whatsapp", body, signed(body)))
    time.sleep(0.5)
    stored = json.loads(urllib.request.urlopen(svc.url("/api/v1/cases/C-0")).read())
    kept = len((stored.get("conversation") or {}).get("last_inbound_text") or "")
    return "%d-char text (%.2f MB): %s; stored %d chars on each of 20 cases; database +%.1f MB" % (
        len(body) - overhead, len(body) / 1e6, answer, kept, (svc.db_bytes() - before) / 1e6)


def probe_statuses_80k(svc):
    body = statuses(80000)
    return "%.1f MB: %s" % (len(body) / 1e6, summary(*send(svc.port, "POST", "/webhooks/whatsapp", body, signed(body))))


def probe_statuses_largest(svc):
    n = 80000
    while len(statuses(n)) > WEBHOOK_LIMIT:
        n = n * WEBHOOK_LIMIT // len(statuses(n)) - 1
    body = statuses(n)
    along = Alongside(svc.port)
    time.sleep(0.2)
    start = time.monotonic()
    answer = summary(*send(svc.port, "POST", "/webhooks/whatsapp", body, signed(body)))
    took = time.monotonic() - start
    return "%d statuses (%.2f MB): %s in %.2f s; %s" % (n, len(body) / 1e6, answer, took, along.stop())


PROBES = [
    ("a 60 MB case", probe_case_60mb),
    ("four 20 MB cases at once", probe_four_cases_20mb),
    ("a 50 MB cases:batch, PUTs alongside", probe_batch_50mb),
    ("a 64 MB signed webhook", probe_webhook_64mb),
    ("a 10 MB inbound text, 20 open cases", probe_inbound_10mb),
    ("the largest inbound text that fits, 20 open cases", probe_inbound_largest),
    ("80,000 statuses in one webhook", probe_statuses_80k),
    ("the largest status webhook that fits, PUTs alongside", probe_statuses_largest),
]


def main():
    if not os.access(BIN, os.X_OK):
        raise SystemExit("no %s: run cargo build --release -p closeloop first" % BIN)
    only = set(filter(None, os.environ.get("ONLY", "").split(",")))
    port = int(os.environ.get("PORT", "18190"))
    print("| probe | answer | peak RSS (VmHWM) | RSS after |")
    print("|---|---|---|---|")
    for name, probe in PROBES:
        if only and probe.__name__.replace("probe_", "") not in only:
            continue
        svc = Service(port)
        port += 1
        try:
            baseline = svc.status_kib("VmHWM")
            result = probe(svc)
            time.sleep(0.5)
            peak, rss = svc.status_kib("VmHWM"), svc.status_kib("VmRSS")
        finally:
            svc.stop()
        print("| %s | %s | %.0f MiB (idle %.0f) | %.0f MiB |" % (
            name, result, peak / 1024, baseline / 1024, rss / 1024), flush=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A stand-in for the agent's `/run_sse`, for benchmarks only (bench/run.sh).

Serves, on 127.0.0.1, just what `nemo chat` needs for one turn:

- `GET /api/state/<agent>/me/<sid>/latest`: an empty draft;
- `POST /run_sse`: an ADK stream of N partial text events
  (`data: {json}\\n\\n`, about 200 bytes each, camelCase like the service's),
  then the final non-partial event repeating the whole text; the stream
  ends when the connection closes, as ADK's does.

Two modes:

- blast (`--pace-ms 0`, the default): the whole stream is built once at
  start and written with one `sendall`, so the server costs next to nothing
  and the client's reading is what is measured;
- paced (`--pace-ms P`): one event every P ms, each carrying in its text the
  time it was written (`time.time_ns()`, 19 digits, then a space), for
  `bench/sse-latency.py` to measure the delay from the server writing a
  piece to the client printing it.

Prints `URL=http://127.0.0.1:<port>` as its first stdout line. Stops on
SIGTERM/SIGINT. Never listens beyond loopback.
"""

import argparse
import json
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def event(i, text, partial=True):
    """One ADK event as the service sends it (about 200 bytes)."""
    body = {
        "id": f"ev{i:08d}",
        "invocationId": "e-3f6d0c2a-bench",
        "author": "nemo_agent",
        "timestamp": 1743712257.39,
        "content": {"role": "model", "parts": [{"text": text}]},
        "partial": partial,
        "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}},
    }
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def blast_stream(n, final=True):
    pieces = [f"piece {i:06d} " for i in range(n)]
    out = [event(i, p) for i, p in enumerate(pieces)]
    if final:
        out.append(event(n, "".join(pieces), partial=False))
    return b"".join(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bench-sse/1"

    def log_message(self, *args):  # quiet: stdout carries only the URL
        pass

    def json_answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        # api/state/<agent>/me/<sid>/latest
        if len(parts) == 6 and parts[:2] == ["api", "state"] and parts[5] == "latest":
            self.json_answer(200, {"code": 0, "message": "ok", "data": {
                "session_id": parts[4], "task_id": "task_bench", "task_name": "bench",
                "state": {"draft": {"t": [], "m": {}}, "video_infos": [], "generated_media": []}}})
        else:
            self.json_answer(404, {"detail": "Not Found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:  # drained in pieces: a 200 MB message is never held
            got = self.rfile.read(min(length, 1 << 20))
            if not got:
                break
            length -= len(got)
        if self.path.split("?")[0] != "/run_sse":
            self.json_answer(404, {"detail": "Not Found"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.server.pace_ms <= 0:
                self.connection.sendall(self.server.stream)
            else:
                pieces = []
                for i in range(self.server.events):
                    time.sleep(self.server.pace_ms / 1000)
                    piece = f"{time.time_ns()} "
                    pieces.append(piece)
                    self.connection.sendall(event(i, piece))
                self.connection.sendall(event(self.server.events, "".join(pieces), partial=False))
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--pace-ms", type=float, default=0)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-final", action="store_true",
                    help="blast mode: leave out the final event repeating the text (memory tests)")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.events = args.events
    server.pace_ms = args.pace_ms
    server.stream = blast_stream(args.events, not args.no_final) if args.pace_ms <= 0 else b""
    print(f"URL=http://127.0.0.1:{server.server_address[1]}", flush=True)
    print(f"stream: {args.events} events, {len(server.stream)} bytes", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

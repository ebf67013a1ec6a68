#!/usr/bin/env python3
"""Git smart-HTTP server for tests (Python 3 standard library only).

Every request runs `git http-backend` as a CGI program (GIT_PROJECT_ROOT=<root>,
GIT_HTTP_EXPORT_ALL=1) and relays its response, honouring its `Status:` header.

* Binds 127.0.0.1 on a kernel-chosen port and prints `PORT <n>` as its first stdout line.
* `--token T`: every request must carry `Authorization: Basic base64(<any user>:T)`,
  otherwise the answer is 401 with `WWW-Authenticate: Basic realm="git"`. An authenticated
  request runs http-backend with REMOTE_USER=<user>, which also enables pushing.
* `--request-log FILE`: one line (`METHOD PATH`) is appended per request, before it is
  answered, so a client that has seen its last response sees every line.
* Chunked request bodies are de-chunked; `Content-Encoding: gzip` bodies are passed on
  untouched with HTTP_CONTENT_ENCODING set (http-backend inflates them).
* Exits cleanly on SIGTERM/SIGINT, and by itself when its parent process goes away.
"""

import argparse
import base64
import binascii
import hmac
import http.server
import os
import signal
import subprocess
import sys
import threading
import urllib.parse

MAX_BODY = 256 * 1024 * 1024
BACKEND_TIMEOUT = 120


class GitHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, root, token, request_log):
        self.root = root
        self.token = token
        self.request_log = request_log
        self._log_lock = threading.Lock()
        self._children = set()
        self._children_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    def log_request_line(self, line):
        if self.request_log is None:
            return
        with self._log_lock:
            with open(self.request_log, "a", encoding="utf-8") as log:
                log.write(line + "\n")
                log.flush()

    def track(self, proc):
        with self._children_lock:
            self._children.add(proc)

    def untrack(self, proc):
        with self._children_lock:
            self._children.discard(proc)

    def kill_children(self):
        with self._children_lock:
            children = list(self._children)
        for proc in children:
            try:
                proc.kill()
            except OSError:
                pass


class BadRequest(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "git-http-test-server"

    def do_GET(self):
        self.handle_git()

    def do_POST(self):
        self.handle_git()

    def log_message(self, format, *args):
        sys.stderr.write("git_http_server: %s - %s\n" % (self.address_string(), format % args))
        sys.stderr.flush()

    # -- helpers -----------------------------------------------------------------------

    def send_plain(self, code, text, extra_headers=()):
        payload = text.encode("utf-8")
        self.close_connection = True
        self.send_response(code)
        for name, value in extra_headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def authenticated_user(self):
        """None when the request is not authorised, else the user name (may be empty)."""
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        user, sep, password = decoded.partition(b":")
        if not sep or not hmac.compare_digest(password, self.server.token.encode("utf-8")):
            return None
        return user.decode("utf-8", "replace")

    def read_exact(self, count):
        data = self.rfile.read(count)
        if len(data) != count:
            raise BadRequest("request body ended early")
        return data

    def read_body(self):
        transfer_encoding = self.headers.get("Transfer-Encoding", "")
        if "chunked" in transfer_encoding.lower():
            return self.read_chunked_body()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            count = int(length)
        except ValueError:
            raise BadRequest("bad Content-Length")
        if count < 0 or count > MAX_BODY:
            raise BadRequest("bad Content-Length")
        return self.read_exact(count)

    def read_chunked_body(self):
        chunks = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise BadRequest("request body ended inside a chunk header")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            if size < 0:
                raise BadRequest("bad chunk size")
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise BadRequest("request body too large")
            chunks.append(self.read_exact(size))
            if self.rfile.readline(65537).strip():
                raise BadRequest("chunk not followed by CRLF")
        while True:  # trailer section
            line = self.rfile.readline(65537)
            if line in (b"", b"\r\n", b"\n"):
                break
        return b"".join(chunks)

    def cgi_environment(self, path_info, query, body, user):
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("HTTP_") or k.startswith("CONTENT_") or k in (
                   "REMOTE_USER", "REMOTE_ADDR", "PATH_INFO", "QUERY_STRING", "REQUEST_METHOD",
                   "GIT_PROTOCOL"))}
        env.update({
            "GIT_PROJECT_ROOT": self.server.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": self.request_version,
            "SERVER_SOFTWARE": self.server_version,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.server.server_address[1]),
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
        })
        content_type = self.headers.get("Content-Type")
        if content_type:
            env["CONTENT_TYPE"] = content_type
        if user is not None:
            env["REMOTE_USER"] = user
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key in ("AUTHORIZATION", "CONTENT_TYPE", "CONTENT_LENGTH", "TRANSFER_ENCODING",
                       "PROXY", "CONNECTION"):
                continue
            # Includes HTTP_CONTENT_ENCODING (gzip bodies) and HTTP_GIT_PROTOCOL (protocol v2).
            env["HTTP_" + key] = value
        return env

    # -- the request -------------------------------------------------------------------

    def handle_git(self):
        server = self.server
        server.log_request_line("%s %s" % (self.command, self.path))

        user = None
        if server.token is not None:
            user = self.authenticated_user()
            if user is None:
                self.send_plain(401, "authentication required\n",
                                [("WWW-Authenticate", 'Basic realm="git"')])
                return

        try:
            body = self.read_body()
        except BadRequest as error:
            self.send_plain(400, "%s\n" % error)
            return

        raw_path, _, query = self.path.partition("?")
        if raw_path.startswith("http://") or raw_path.startswith("https://"):
            raw_path = urllib.parse.urlsplit(raw_path).path
        path_info = urllib.parse.unquote(raw_path)
        env = self.cgi_environment(path_info, query, body, user)

        try:
            proc = subprocess.Popen(["git", "http-backend"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=None, env=env,
                                    cwd=server.root)
        except OSError as error:
            self.send_plain(500, "cannot run git http-backend: %s\n" % error)
            return
        server.track(proc)
        try:
            output, _ = proc.communicate(body, timeout=BACKEND_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.send_plain(504, "git http-backend timed out\n")
            return
        finally:
            server.untrack(proc)

        try:
            code, reason, headers, payload = parse_cgi_response(output)
        except BadRequest as error:
            self.send_plain(502, "bad CGI response from git http-backend (exit %s): %s\n"
                            % (proc.returncode, error))
            return

        self.send_response(code, reason)
        for name, value in headers:
            if name.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def parse_cgi_response(output):
    ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") for i in [output.find(sep)] if i >= 0]
    if not ends:
        raise BadRequest("no end of CGI headers in %d bytes of output" % len(output))
    index, length = min(ends)
    head, payload = output[:index], output[index + length:]
    code, reason = 200, None
    headers = []
    for line in head.decode("latin-1").split("\n"):
        line = line.rstrip("\r")
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest("bad CGI header line %r" % line)
        name, value = name.strip(), value.strip()
        if name.lower() == "status":
            number, _, text = value.partition(" ")
            try:
                code = int(number)
            except ValueError:
                raise BadRequest("bad Status header %r" % value)
            reason = text or None
        else:
            headers.append((name, value))
    return code, reason, headers, payload


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="directory holding the repositories")
    parser.add_argument("--token", help="require HTTP Basic auth with this password")
    parser.add_argument("--request-log", help="append one line per request to this file")
    parser.add_argument("--tls-certificate", help="serve HTTPS with this PEM certificate")
    parser.add_argument("--tls-key", help="the certificate's PEM private key")
    args = parser.parse_args()

    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        sys.stderr.write("git_http_server: no such directory: %s\n" % root)
        return 2

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server = GitHTTPServer(root, args.token, args.request_log)
    if args.tls_certificate:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_certificate, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()

    parent = os.getppid()
    while not stop.wait(0.25):
        if os.getppid() != parent:  # the test process died without stopping us
            sys.stderr.write("git_http_server: parent process went away, exiting\n")
            break

    server.shutdown()
    server.kill_children()
    server.server_close()
    thread.join(timeout=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

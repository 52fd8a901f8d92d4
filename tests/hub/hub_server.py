#!/usr/bin/env python3
"""A stand-in for the Hugging Face hub that the tests start: serves ROOT/{org}/{name}/{file} as
/{org}/{name}/resolve/{revision}/{file}, bound to 127.0.0.1 on a port the system picks (printed as
"PORT n" on the first line of stdout).

As the hub does, every answer carries X-Repo-Commit (the repository's .commit file), Range
requests are answered 206 with Content-Range, and a repository with a .token file is gated: 401
without "Authorization: Bearer <that token>". A repository with a .ignore-range file answers
ranges with the whole file (200), as some mirrors do; one with a .status file answers every
request with that HTTP status; one with a .redirect file sends its safetensors files elsewhere
(302 to /cdn/..., as the hub sends large files to its CDN). Each request is logged to stderr.
"""
import http.server
import os
import re
import sys


class HubHandler(http.server.BaseHTTPRequestHandler):
    root = "."

    def do_GET(self):
        cdn = re.fullmatch(r"/cdn/([\w.-]+)/([\w.-]+)/([\w./-]+)", self.path)
        if cdn and ".." not in self.path:
            return self.send_file(os.path.join(self.root, *cdn.groups()), None)
        match = re.fullmatch(r"/([\w.-]+)/([\w.-]+)/resolve/([\w.%-]+)/([\w./-]+)", self.path)
        if not match or ".." in self.path:
            return self.answer(404, b"Entry not found")
        org, name, _revision, file = match.groups()
        repo = os.path.join(self.root, org, name)
        if not os.path.isdir(repo):
            return self.answer(404, b"Repository not found")
        status_file = os.path.join(repo, ".status")
        if os.path.exists(status_file):
            with open(status_file) as status:
                return self.answer(int(status.read().strip()), b"", repo)
        token_file = os.path.join(repo, ".token")
        if os.path.exists(token_file):
            with open(token_file) as token:
                if self.headers.get("Authorization") != "Bearer " + token.read().strip():
                    return self.answer(401, b"Access to this repository is restricted")
        path = os.path.join(repo, file)
        if not os.path.isfile(path):
            return self.answer(404, b"Entry not found", repo)
        if file.endswith(".safetensors") and os.path.exists(os.path.join(repo, ".redirect")):
            return self.answer(302, b"", repo, {"Location": "/cdn/%s/%s/%s" % (org, name, file)})
        return self.send_file(path, repo)

    def send_file(self, path, repo):
        if not os.path.isfile(path):
            return self.answer(404, b"Entry not found")
        size = os.path.getsize(path)
        byte_range = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if byte_range and not (repo and os.path.exists(os.path.join(repo, ".ignore-range"))):
            first, last = int(byte_range.group(1)), min(int(byte_range.group(2)), size - 1)
            if first >= size:
                return self.answer(416, b"", repo, {"Content-Range": "bytes */%d" % size})
            with open(path, "rb") as data:
                data.seek(first)
                body = data.read(last - first + 1)
            return self.answer(206, body, repo, {"Content-Range": "bytes %d-%d/%d" % (first, last, size)})
        with open(path, "rb") as data:
            return self.answer(200, data.read(), repo)

    def answer(self, status, body, repo=None, headers=None):
        self.send_response(status)
        if repo is not None and os.path.exists(os.path.join(repo, ".commit")):
            with open(os.path.join(repo, ".commit")) as commit:
                self.send_header("X-Repo-Commit", commit.read().strip())
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stops reading once it has the header: that is the point


def main():
    HubHandler.root = sys.argv[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HubHandler)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Creates N bare git repositories of realistic size with `git fast-import`.

usage: make_git_repos.py ROOT [N] [FILES] [COMMITS]   (defaults: 20, 300, 200)

Each repository has FILES text files (manifests, charts, docs, 1-4 KB each) in nested
directories and COMMITS commits, each changing a few files; a `main` branch (the remote's
default), a `release` branch and a tag every 50 commits. Deterministic.
"""
import os
import random
import subprocess
import sys

def blob_text(r, name, rev):
    lines = [f"# {name} revision {rev}"]
    for i in range(r.randint(20, 80)):
        lines.append(f"key{i}: value-{r.getrandbits(48):012x} # line {i} of {name}")
    return ("\n".join(lines) + "\n").encode()

def make(root, index, files, commits):
    r = random.Random(1000 + index)
    path = os.path.join(root, f"repo{index:02d}.git")
    if os.path.exists(path):
        return path
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", path], check=True)
    names = [f"{['charts', 'manifests', 'docs', 'config'][k % 4]}/{['app', 'db', 'cache', 'web', 'ops'][k % 5]}/file{k:03d}.yaml" for k in range(files)]
    out = bytearray()
    stamp = 1700000000
    for c in range(commits):
        changed = names if c == 0 else r.sample(names, r.randint(1, 6))
        out += f"commit refs/heads/main\nmark :{c + 1}\ncommitter Bench <bench@example.com> {stamp + c * 60} +0000\n".encode()
        msg = f"change {c} in repo {index}\n".encode()
        out += f"data {len(msg)}\n".encode() + msg
        if c > 0:
            out += f"from :{c}\n".encode()
        for name in changed:
            data = blob_text(r, name, c)
            out += f"M 100644 inline {name}\ndata {len(data)}\n".encode() + data + b"\n"
        if c % 50 == 49:
            out += f"reset refs/tags/v{c // 50 + 1}.0.0\nfrom :{c + 1}\n\n".encode()
    out += f"reset refs/heads/release\nfrom :{commits // 2}\n\n".encode()
    subprocess.run(["git", "-C", path, "fast-import", "--quiet"], input=bytes(out), check=True)
    subprocess.run(["git", "-C", path, "gc", "-q"], check=True)
    return path

def main():
    root = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    files = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    commits = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    os.makedirs(root, exist_ok=True)
    for i in range(n):
        make(root, i, files, commits)
    print(f"{n} repositories in {root}")

main()

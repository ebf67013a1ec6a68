#!/usr/bin/env python3
"""Creates the repositories of the cold-run benchmark with `git fast-import`.

usage: make_cold_repos.py ROOT

- big.git: a large history (4 000 commits, each rewriting a few of 400 data files with
  incompressible text, about 40 MB packed) holding three Helm charts under charts/, the
  way helm/charts held many; its default branch is main.
- small0.git … small4.git: one chart each under chart/, 60 commits, a v1.0.0 tag.
- huge.git: for the file:// case, a larger history of the same shape (6 000 commits over
  600 data files of 8 KB, about 250 MB packed; left as fast-import packed it).

Deterministic; a repository that exists is left as it is. Prints each one's packed size.
"""
import base64
import os
import random
import subprocess
import sys

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: {name}\nversion: 1.0.{rev}\n",
    "values.yaml": "replicas: 1\nimage: registry.example.com/{name}:1.{rev}\n",
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{{{ .Release.Name }}}}\n"
        "spec:\n  replicas: {{{{ .Values.replicas }}}}\n  template:\n    spec:\n      containers:\n"
        "      - name: app\n        image: {{{{ .Values.image }}}}\n"
    ),
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-config\n"
        "data:\n  revision: \"{rev}\"\n"
    ),
}


def data(r, size):
    return (base64.b64encode(r.randbytes(size * 3 // 4)).decode() + "\n").encode()


def file_command(path, content):
    return f"M 100644 inline {path}\ndata {len(content)}\n".encode() + content + b"\n"


def chart_files(prefix, name, rev):
    return b"".join(file_command(f"{prefix}/{path}", text.format(name=name, rev=rev).encode()) for path, text in CHART.items())


def make(root, name, commits, charts, data_files, data_size, changes, seed, gc=True):
    path = os.path.join(root, f"{name}.git")
    if os.path.exists(path):
        return path
    r = random.Random(seed)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", path], check=True)
    out = bytearray()
    stamp = 1700000000
    for c in range(commits):
        out += f"commit refs/heads/main\nmark :{c + 1}\ncommitter Bench <bench@example.com> {stamp + c * 60} +0000\n".encode()
        message = f"{name}: change {c}\n".encode()
        out += f"data {len(message)}\n".encode() + message
        if c > 0:
            out += f"from :{c}\n".encode()
        if c == 0:
            for k in range(data_files):
                out += file_command(f"data/file{k:03d}.txt", data(r, data_size))
        else:
            for k in r.sample(range(data_files), changes):
                out += file_command(f"data/file{k:03d}.txt", data(r, data_size))
        # The charts change now and then, as charts in a shared repository do.
        if c == 0 or c % 97 == 0 or c == commits - 1:
            for prefix, chart in charts:
                out += chart_files(prefix, chart, c)
        if c == commits // 2:
            out += f"reset refs/tags/v1.0.0\nfrom :{c + 1}\n\n".encode()
    subprocess.run(["git", "--git-dir", path, "fast-import", "--quiet"], input=bytes(out), check=True)
    if gc:
        subprocess.run(["git", "--git-dir", path, "gc", "-q", "--aggressive"], check=True)
    # As GitHub and GitLab allow: any commit the repository has can be fetched by id.
    subprocess.run(["git", "--git-dir", path, "config", "uploadpack.allowReachableSHA1InWant", "true"], check=True)
    return path


def packed_size(path):
    total = 0
    for directory, _, files in os.walk(os.path.join(path, "objects")):
        total += sum(os.path.getsize(os.path.join(directory, f)) for f in files)
    return total


def main():
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)
    repos = [make(root, "big", 4000, [(f"charts/chart{i}", f"chart{i}") for i in range(1, 4)], 400, 3400, 4, 1)]
    for i in range(5):
        repos.append(make(root, f"small{i}", 60, [("chart", f"small{i}")], 20, 1200, 2, 100 + i))
    repos.append(make(root, "huge", 6000, [(f"charts/chart{i}", f"chart{i}") for i in range(1, 4)], 600, 8000, 6, 2, gc=False))
    for path in repos:
        print(f"{os.path.basename(path)} {packed_size(path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Inputs for Benchmarks/limits under DIR: wide/ (10 000 static components), deep/
(components nested 1 000 deep), chart/ (a chart printing 200 MB), http/ and served/big.yaml
(a 100 MB manifest). Made once; a `.done` marker per case skips it next time."""
import os
import sys

root = sys.argv[1]


def once(case, make):
    marker = os.path.join(root, case, ".done")
    if os.path.exists(marker):
        return
    os.makedirs(os.path.join(root, case), exist_ok=True)
    make(os.path.join(root, case))
    open(marker, "w").close()


def config_map(name, data=""):
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{data}\"\n"


def wide(base):
    with open(f"{base}/component.yaml", "w") as f:
        f.write("name: wide\nsubcomponents:\n")
        for i in range(10_000):
            f.write(f"  - {{name: c{i}, type: static, path: ./m/c{i}}}\n")
            os.makedirs(f"{base}/m/c{i}", exist_ok=True)
            with open(f"{base}/m/c{i}/cm.yaml", "w") as m:
                m.write(config_map(f"c{i}", "x" * 64))


def deep(base):
    # Each level in a directory `a` of the one above: 2 characters of path per level.
    directory = base
    for level in range(1_000):
        with open(f"{directory}/component.yaml", "w") as f:
            f.write(f"name: c{level}\nsubcomponents:\n  - {{name: c{level + 1}, source: ./a}}\n")
        directory = f"{directory}/a"
        os.makedirs(directory, exist_ok=True)
    os.makedirs(f"{directory}/m", exist_ok=True)
    with open(f"{directory}/component.yaml", "w") as f:
        f.write("name: leaf\ntype: static\npath: ./m\n")
    with open(f"{directory}/m/cm.yaml", "w") as m:
        m.write(config_map("leaf"))


def chart(base):
    os.makedirs(f"{base}/chart/templates", exist_ok=True)
    with open(f"{base}/component.yaml", "w") as f:
        f.write("name: chart\ntype: helm\npath: ./chart\n")
    with open(f"{base}/chart/Chart.yaml", "w") as f:
        f.write("apiVersion: v2\nname: big\nversion: 1.0.0\n")
    with open(f"{base}/chart/values.yaml", "w") as f:
        f.write("count: 200000\npayload: " + "x" * 900 + "\n")
    with open(f"{base}/chart/templates/many.yaml", "w") as f:
        f.write("{{- range $i := until (int .Values.count) }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                "  name: cm-{{ $i }}\ndata:\n  payload: {{ $.Values.payload | quote }}\n{{- end }}\n")


def http(base):
    os.makedirs(f"{root}/served", exist_ok=True)
    with open(f"{root}/served/big.yaml", "w") as f:
        for i in range(100_000):
            f.write("---\n" + config_map(f"cm-{i}", "y" * 900))


once("wide", wide)
once("deep", deep)
once("chart", chart)
once("http", http)

#!/usr/bin/env python3
"""Writes a synthetic fleet HLD: N components, static and local, nested 4 deep, with
common + dev/stage/prod config at every level.

usage: make_fleet.py OUT N

Levels: the root → regions → clusters → apps (external local components) → each app has
two inline static children (workload, config) reading 2-3 manifest files. Deterministic.
"""
import os
import random
import sys

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

def deployment(name, r):
    env = "\n".join(f"        - {{name: VAR_{i}, value: \"{r.choice(['yes', '0755', '1.10', 'plain', 'on'])}\"}}" for i in range(r.randint(2, 6)))
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}, tier: backend}}
spec:
  replicas: {r.randint(1, 5)}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: main
        image: "registry.example.com/{name}:v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}"
        ports: [{{containerPort: 8080}}]
        env:
{env}
"""

def main():
    out, n = sys.argv[1], int(sys.argv[2])
    r = random.Random(n)
    # n components in all: per app 3 (the app and two inline children); regions and
    # clusters are containers.
    apps = max(1, n // 3)
    regions = max(1, round(apps ** (1 / 3)))
    clusters = max(1, round((apps / regions) ** 0.5))
    write(f"{out}/hld.yaml", "environments: [dev, stage, prod]\n")
    region_entries = []
    made = 0
    for g in range(regions):
        region = f"region{g}"
        region_entries.append(f"- name: {region}\n  source: ./{region}\n")
        cluster_entries = []
        for c in range(clusters):
            cluster = f"cluster{c}"
            cluster_entries.append(f"- name: {cluster}\n  source: ./{cluster}\n")
            per_cluster = apps // (regions * clusters) + (1 if (g * clusters + c) < apps % (regions * clusters) else 0)
            app_entries = []
            for a in range(per_cluster):
                app = f"app{a}"
                made += 1
                app_entries.append(f"- name: {app}\n  source: ./{app}\n")
                base = f"{out}/{region}/{cluster}/{app}"
                write(f"{base}/component.yaml", f"name: {app}\nsubcomponents:\n- name: workload\n  type: static\n  path: ./workload\n- name: config\n  type: static\n  path: ./config-manifests\n")
                write(f"{base}/workload/deployment.yaml", deployment(f"{region}-{cluster}-{app}", r))
                write(f"{base}/workload/service.yaml", f"apiVersion: v1\nkind: Service\nmetadata: {{name: {app}}}\nspec:\n  ports: [{{port: 80, targetPort: 8080}}]\n")
                write(f"{base}/config-manifests/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + app + "}\ndata:\n  settings: |\n" + "".join(f"    key{i} = {r.getrandbits(32):x}\n" for i in range(20)))
                write(f"{base}/config/common.yaml", f"config:\n  replicas: 1\n  image: {{tag: v1}}\nsubcomponents:\n  workload: {{config: {{a: 1}}}}\n")
                for env in ["dev", "stage", "prod"]:
                    write(f"{base}/config/{env}.yaml", f"config:\n  replicas: {r.randint(1, 5)}\n  env: {env}\n")
            write(f"{out}/{region}/{cluster}/component.yaml", f"name: {cluster}\nsubcomponents:\n" + "".join(app_entries))
            write(f"{out}/{region}/{cluster}/config/common.yaml", "config: {cluster: true}\n")
            write(f"{out}/{region}/{cluster}/config/prod.yaml", "subcomponents:\n  app0: {config: {replicas: 9}}\n")
        write(f"{out}/{region}/component.yaml", f"name: {region}\nsubcomponents:\n" + "".join(cluster_entries))
        write(f"{out}/{region}/config/common.yaml", "config: {region: true}\n")
    write(f"{out}/component.yaml", "name: fleet\nsubcomponents:\n" + "".join(region_entries))
    write(f"{out}/config/common.yaml", "config: {fleet: true}\n")
    for env in ["dev", "stage", "prod"]:
        write(f"{out}/config/{env}.yaml", f"config: {{env: {env}}}\n")
    total = 1 + regions + regions * clusters + made * 3
    write(f"{out}/.components", f"{total}\n")
    print(f"{out}: {total} components ({made} apps) in {regions} regions x {clusters} clusters")

main()

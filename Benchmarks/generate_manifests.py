#!/usr/bin/env python3
"""Writes a deterministic multi-document Kubernetes manifest stream of about SIZE bytes.

usage: generate_manifests.py OUT [SIZE_MB]

The mix is what materialized HLDs hold: Deployments, Services, ConfigMaps with multi-line
data, Secrets with strings that look like other types, and CRDs with deep schemas; flow
and block styles, quoted and plain scalars, comments.
"""
import random
import sys

def deployment(i, r):
    name = f"app-{i}"
    env = "\n".join(
        f"""        - name: VAR_{k}
          value: "{r.choice(['yes', 'on', '0755', '1.10', 'true', 'plain text', '42'])}\""""
        for k in range(r.randint(2, 8)))
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: team-{i % 17}
  labels: {{app: {name}, tier: backend, "app.kubernetes.io/version": "1.{i % 30}.0"}}
  annotations:
    checksum/config: {r.getrandbits(128):032x}
spec:
  replicas: {r.randint(1, 9)}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: main
        image: "registry.example.com/{name}:v{i % 7}.{i % 11}.{i % 13}"
        args: ["--port", "8080", "--log-level", info]
        ports:
        - containerPort: 8080
          protocol: TCP
        env:
{env}
        resources:
          limits: {{cpu: 500m, memory: 256Mi}}
          requests: {{cpu: 100m, memory: 64Mi}}
        readinessProbe:
          httpGet: {{path: /healthz, port: 8080}}
          initialDelaySeconds: 5
"""

def service(i, r):
    return f"""apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: team-{i % 17}
spec:
  type: ClusterIP
  selector: {{app: app-{i}}}
  ports:
    - name: http
      port: 80
      targetPort: 8080
"""

def configmap(i, r):
    lines = "\n".join(f"    key{k} = value-{r.getrandbits(40):x}  # setting {k}" for k in range(r.randint(5, 40)))
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}-config
  namespace: team-{i % 17}
data:
  app.properties: |
{lines}
  mode: "0644"
  enabled: "yes"
  empty: ""
"""

def secret(i, r):
    return f"""apiVersion: v1
kind: Secret
metadata: {{name: app-{i}-creds, namespace: team-{i % 17}}}
type: Opaque
stringData:
  username: svc-{i}
  password: '{r.getrandbits(96):x}'
  port: '5432'
  ssl: "on"
"""

def crd(i, r):
    props = "\n".join(f"""                field{k}:
                  type: {r.choice(['string', 'integer', 'boolean'])}
                  description: Field {k} of widget {i}, used by the controller.""" for k in range(r.randint(5, 25)))
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets{i}.example.com
spec:
  group: example.com
  names: {{kind: Widget{i}, plural: widgets{i}, singular: widget{i}}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
        properties:
          spec:
            type: object
            properties:
{props}
"""

def main():
    out = sys.argv[1]
    target = int(float(sys.argv[2] if len(sys.argv) > 2 else 50) * 1024 * 1024)
    r = random.Random(20261121)
    kinds = [deployment, service, configmap, secret, crd]
    size = 0
    i = 0
    with open(out, "w") as f:
        while size < target:
            doc = "---\n# Source: fleet/app-%d\n" % i + kinds[i % len(kinds)](i // len(kinds), r)
            f.write(doc)
            size += len(doc.encode())
            i += 1
    print(f"{out}: {size} bytes, {i} documents")

main()

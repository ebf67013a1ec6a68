import Testing
import YAML

/// The emitter on real-looking manifests: input in assorted styles, expected output in
/// hld's canonical Kubernetes style.
@Suite struct EmitterGoldenTests {
    func canonical(_ input: String) throws -> String {
        try Node.yaml(documents: Node.documents(in: input), options: EmitOptions(explicitDocumentStart: true))
    }

    @Test func deploymentWithMultiLineConfigMapData() throws {
        let input = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: nginx-conf, namespace: web}
            data:
              nginx.conf: "server {\\n  listen 80;\\n  location / {\\n    root /usr/share/nginx/html;\\n  }\\n}\\n"
              banner: 'one line'
              trailing: "no newline at end\\nsecond line"
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: nginx
              labels: {app: nginx, tier: "frontend"}
            spec:
              replicas: 3
              selector:
                matchLabels:
                  app: nginx
              template:
                metadata:
                  labels:
                    app: nginx
                spec:
                  containers:
                    - name: nginx
                      image: "nginx:1.25"
                      args: ["--port", "8080", '--verbose']
                      ports:
                        - containerPort: 80
                          protocol: TCP
                      env:
                        - {name: ENABLED, value: "true"}
                        - {name: LEVEL, value: "3"}
                      resources:
                        limits: {cpu: 500m, memory: 128Mi}
                  volumes:
                    - name: conf
                      configMap: {name: nginx-conf}
            """
        let expected = """
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: nginx-conf
              namespace: web
            data:
              nginx.conf: |
                server {
                  listen 80;
                  location / {
                    root /usr/share/nginx/html;
                  }
                }
              banner: one line
              trailing: |-
                no newline at end
                second line
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: nginx
              labels:
                app: nginx
                tier: frontend
            spec:
              replicas: 3
              selector:
                matchLabels:
                  app: nginx
              template:
                metadata:
                  labels:
                    app: nginx
                spec:
                  containers:
                  - name: nginx
                    image: nginx:1.25
                    args:
                    - --port
                    - "8080"
                    - --verbose
                    ports:
                    - containerPort: 80
                      protocol: TCP
                    env:
                    - name: ENABLED
                      value: "true"
                    - name: LEVEL
                      value: "3"
                    resources:
                      limits:
                        cpu: 500m
                        memory: 128Mi
                  volumes:
                  - name: conf
                    configMap:
                      name: nginx-conf

            """
        #expect(try canonical(input) == expected)
    }

    @Test func customResourceDefinitionWithKubernetesExtensions() throws {
        let input = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
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
                        x-kubernetes-validations:
                        - rule: "self.minReplicas <= self.maxReplicas"
                          message: 'minReplicas must not exceed maxReplicas'
                        properties:
                          ports:
                            type: array
                            x-kubernetes-list-type: map
                            x-kubernetes-list-map-keys: [containerPort, protocol]
                            items: {type: object, required: [containerPort]}
                          mode: {type: string, enum: ["on", "off", "auto"], default: "off"}
                          minReplicas: {type: integer, minimum: 0, default: 1}
                          ratio: {type: number, default: 0.5}
                          selector: {type: string, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'}
            """
        let expected = """
            ---
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              names:
                kind: Widget
                plural: widgets
                singular: widget
                shortNames:
                - wd
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
                        x-kubernetes-validations:
                        - rule: self.minReplicas <= self.maxReplicas
                          message: minReplicas must not exceed maxReplicas
                        properties:
                          ports:
                            type: array
                            x-kubernetes-list-type: map
                            x-kubernetes-list-map-keys:
                            - containerPort
                            - protocol
                            items:
                              type: object
                              required:
                              - containerPort
                          mode:
                            type: string
                            enum:
                            - "on"
                            - "off"
                            - auto
                            default: "off"
                          minReplicas:
                            type: integer
                            minimum: 0
                            default: 1
                          ratio:
                            type: number
                            default: 0.5
                          selector:
                            type: string
                            pattern: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$

            """
        #expect(try canonical(input) == expected)
    }

    @Test func secretStringDataKeepsStringsThatLookLikeOtherTypes() throws {
        let input = """
            apiVersion: v1
            kind: Secret
            metadata: {name: creds}
            type: Opaque
            stringData:
              enabled: "yes"
              mode: "0755"
              port: '8080'
              ratio: "1.10"
              scientific: "1e3"
              nothing: "~"
              null-word: "null"
              date: "2001-12-14"
              infinity: ".inf"
              empty: ""
              answer: 'y'
              switch: "on"
              merge: "<<"
              base60: "1:20"
              password: "p@ss: word #1"
              multi: "line one\\nline two\\n"
              leading: "  indented"
            """
        let expected = """
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: creds
            type: Opaque
            stringData:
              enabled: "yes"
              mode: "0755"
              port: "8080"
              ratio: "1.10"
              scientific: "1e3"
              nothing: "~"
              null-word: "null"
              date: "2001-12-14"
              infinity: ".inf"
              empty: ""
              answer: "y"
              switch: "on"
              merge: "<<"
              base60: "1:20"
              password: 'p@ss: word #1'
              multi: |
                line one
                line two
              leading: '  indented'

            """
        let output = try canonical(input)
        #expect(output == expected)
        // And every value is still a string for both schemas.
        let reparsed = try Node.document(in: output)
        for pair in try #require(reparsed["stringData"]?.pairs) {
            #expect(pair.value.scalarType(.yaml11) == .string, "\(pair.key.scalarText ?? "")")
            #expect(pair.value.scalarType(.core12) == .string, "\(pair.key.scalarText ?? "")")
        }
    }

    @Test func plainValuesKeepTheirTypeAndSpelling() throws {
        let input = "a: yes\nb: 0755\nc: ~\nd:\ne: 1e3\nf: [1, 2.5, true, null]\n? \n: nullkey\n"
        let expected = "a: yes\nb: 0755\nc: ~\nd:\ne: 1e3\nf:\n- 1\n- 2.5\n- true\n- null\nnull: nullkey\n"
        #expect(try Node.document(in: input).yaml() == expected)
    }

    @Test func tagsSurviveAndCoreStringTagsBecomeQuotes() throws {
        let input = "a: !!str 123\nb: !!int \"42\"\nc: !custom value\nd: !replace [x]\ne: !!binary aGVsbG8=\nf: ! 12\n"
        let expected = "a: \"123\"\nb: !!int 42\nc: !custom value\nd: !replace\n- x\ne: !!binary aGVsbG8=\nf: \"12\"\n"
        let node = try Node.document(in: input)
        let output = try node.yaml()
        #expect(output == expected)
        #expect(try Node.document(in: output) == node)
    }

    @Test func emptyCollectionsAndStream() throws {
        #expect(try Node.document(in: "a: []\nb: {}\n").yaml() == "a: []\nb: {}\n")
        #expect(try Node.yaml(documents: []) == "")
        #expect(try Node.yaml(documents: [.plain("a"), .plain("b")]) == "a\n--- b\n")
    }

    /// Found by the yaml-roundtrip fuzz target (Fuzz/regressions/yaml-roundtrip/).
    @Test func aStreamStartingWithAnEmptyDocumentKeepsIt() throws {
        let documents = try DocumentReader(text: "---\n---\n").readAll()
        #expect(documents.count == 2)
        let output = try Node.yaml(documents: documents)
        #expect(try DocumentReader(text: output).readAll() == documents)
        #expect(try Node.yaml(documents: [.plain("")]).hasPrefix("---"))
        // Only the first document needs it; a later empty one gets its `---` anyway.
        #expect(try Node.yaml(documents: [.plain("a"), .plain("")]) == "a\n---\n")
    }

    @Test func aPlainScalarOverLinesIsWrittenAsALiteralBlockAtOnce() throws {
        let node = try Node.document(in: "a\n\n b\n")
        #expect(node.scalarText == "a\nb")
        let once = try node.yaml()
        #expect(once == "|-\n  a\n  b\n")
        #expect(try Node.document(in: once).yaml() == once)
        #expect(try Node.document(in: "k: x\n\n  y\n").yaml() == "k: |-\n  x\n  y\n")
    }
}

import Foundation

/// A certificate and its private key, PEM files a loopback server presents.
package struct TLSIdentity: Sendable {
    package var certificate: String
    package var key: String
}

/// A throwaway CA and server certificates it signed, made with the openssl command:
/// `server` names localhost and 127.0.0.1, `wrongHost` only other.example, and
/// `otherCA` is a second CA that signed nothing here.
package struct TLSCertificates: Sendable {
    package let directory: TemporaryDirectory
    package let caFile: String
    package let otherCAFile: String
    package let server: TLSIdentity
    package let wrongHost: TLSIdentity

    package init() throws {
        let directory = try TemporaryDirectory(prefix: "hld-tls")
        let path = { (name: String) in directory.appending(name).path }
        func openssl(_ arguments: [String]) throws {
            let result = try ChildProcess.run("openssl", arguments, environment: ProcessInfo.processInfo.environment)
            guard result.succeeded else { throw LoopbackServerError("openssl \(arguments.joined(separator: " ")) failed:\n\(result.stderr)") }
        }
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "other-ca"] {
            try openssl(["req", "-x509"] + curve + ["-keyout", path("\(ca).key"), "-out", path("\(ca).pem"), "-days", "30",
                         "-subj", "/CN=hld test \(ca)", "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        for (name, names) in [("server", "IP:127.0.0.1,DNS:localhost"), ("wrong-host", "DNS:other.example")] {
            try "subjectAltName=\(names)\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
                .write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
            let commonName = name == "server" ? "localhost" : "other.example"
            try openssl(["req"] + curve + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(commonName)"])
            try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
                         "-out", path("\(name).pem"), "-days", "30", "-extfile", path("\(name).ext")])
        }
        self.directory = directory
        caFile = path("ca.pem")
        otherCAFile = path("other-ca.pem")
        server = TLSIdentity(certificate: path("server.pem"), key: path("server.key"))
        wrongHost = TLSIdentity(certificate: path("wrong-host.pem"), key: path("wrong-host.key"))
    }
}

import CacheStore
import Foundation

/// SIGINT and SIGTERM end a run cleanly: what it was writing (the scratch directory with
/// merged values, temporary cache entries, a half-built output tree) is removed, then hld
/// exits 130 or 143. The output directory is the old tree or the new one, as always.
///
/// The signal handler only writes the signal number to a pipe (all a handler may safely
/// do); a thread reads it and cleans up. The signals are caught, not ignored, so the
/// programs hld starts (helm, kustomize, hooks) get the default action as usual.
enum Interrupts {
    static func install() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        interruptPipe = fds[1]
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = forwardSignal
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
        // A server that hangs up mid-fetch must be an error, not a silent death: libgit2
        // writes to its sockets without MSG_NOSIGNAL. Caught (by a handler that does
        // nothing), not ignored, so programs hld starts still get the default action.
        var pipeAction = sigaction()
        pipeAction.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&pipeAction.sa_mask)
        sigaction(SIGPIPE, &pipeAction, nil)
        let reader = fds[0]
        let thread = Thread {
            var number: UInt8 = 0
            while read(reader, &number, 1) < 0 && errno == EINTR {}
            InFlight.removeAll()
            // _exit, not exit: the other threads are still running, and exit's atexit
            // handlers and library destructors must not pull state from under them (an
            // interrupted run under load once died of SIGABRT that way).
            fflush(nil)
            _exit(128 + Int32(number))
        }
        thread.start()
    }
}

/// The write end of the pipe the handler signals through (set once, before any signal).
nonisolated(unsafe) private var interruptPipe: Int32 = -1

private func forwardSignal(_ signal: Int32) {
    var number = UInt8(truncatingIfNeeded: signal)
    _ = write(interruptPipe, &number, 1)
}

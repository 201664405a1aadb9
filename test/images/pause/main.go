// Command pause is the pod sandbox process of the lab's containerd: it holds the pod's
// namespaces, reaps children re-parented to it (it is PID 1 of the pod when the pod shares
// its PID namespace), and exits 0 on SIGTERM or SIGINT. As PID 1, a signal without a
// handler is ignored by the kernel, so the handlers are what make it stoppable.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		// One SIGCHLD may stand for several exits: reap until nothing is left.
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}

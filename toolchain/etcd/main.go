// Command etcd wraps the real etcd server (go.etcd.io/etcd/server/v3), so it can be built from the Go module proxy.
//
// go.etcd.io/etcd/server/v3 cannot be `go install`ed because its go.mod has replace directives; a module
// that merely requires it and calls etcdmain.Main is the same program as the release binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}

// SPDX-License-Identifier: GPL-2.0

// tfo_go PORT: the Fast Open report's two sends from Go, whose syscall
// package makes the system calls itself (no libc in the binary): sendto
// with MSG_FASTOPEN and 127.0.0.1:PORT, then sendmsg with MSG_FASTOPEN and
// no address, each on a new TCP socket. Prints, in tests/progs/tfo_client's
// format, "tfo_go pid=PID" and a line per call: its name, flags, addrlen,
// return value and errno as Go saw them.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

func tcpSocket() int {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socket:", err)
		os.Exit(1)
	}
	return fd
}

func report(call string, addrlen int, n int, err error) {
	ret, name := n, "none"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		ret, name = -1, errnoName(errno)
	}
	fmt.Printf("%s flags=%#x addrlen=%d ret=%d errno=%s\n", call,
		syscall.MSG_FASTOPEN, addrlen, ret, name)
}

func errnoName(e syscall.Errno) string {
	names := map[syscall.Errno]string{
		syscall.EINVAL:       "EINVAL",
		syscall.ECONNREFUSED: "ECONNREFUSED",
		syscall.EINPROGRESS:  "EINPROGRESS",
		syscall.EOPNOTSUPP:   "EOPNOTSUPP",
	}
	if n, ok := names[e]; ok {
		return n
	}
	return strconv.Itoa(int(e))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tfo_go PORT")
		os.Exit(2)
	}
	port, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad port:", os.Args[1])
		os.Exit(2)
	}
	fmt.Printf("tfo_go pid=%d\n", os.Getpid())
	data := []byte("hello, fast open")
	to := &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	err = syscall.Sendto(tcpSocket(), data, syscall.MSG_FASTOPEN, to)
	n := len(data)
	report("sendto", syscall.SizeofSockaddrInet4, n, err)
	n, err = syscall.SendmsgN(tcpSocket(), data, nil, nil,
		syscall.MSG_FASTOPEN)
	report("sendmsg", 0, n, err)
}

#!/usr/bin/env ruby
# SPDX-License-Identifier: GPL-2.0
#
# The field report's failing client in Ruby (same output as tfo_client.c).
#
#   tfo_client.rb PORT [--plain]
#
# BasicSocket#sendmsg calls libc sendmsg(), BasicSocket#send with a
# destination calls libc sendto():
# 1. sendmsg(data, MSG_FASTOPEN) on a fresh TCP socket: no address, EINVAL.
# 2. send(data, MSG_FASTOPEN, 127.0.0.1:PORT) on another TCP socket.
# 3. With --plain: send(data, 0, 127.0.0.1:PORT) on a UDP socket.
#
# Ruby 3 creates sockets in nonblocking mode; they are made blocking here so
# the calls behave like the C client's.
require 'io/nonblock'
require 'socket'

PAYLOAD = 'tfo_client.rb'

def new_socket(type)
  s = Socket.new(:INET, type)
  s.nonblock = false
  s
end

def report(call, sock, flags, addrlen)
  ret = yield
  err = 'none'
rescue SystemCallError => e
  ret = -1
  err = Errno.constants.find { |c| Errno.const_get(c)::Errno == e.errno } || e.errno
ensure
  puts "#{call} sock=#{sock} flags=0x#{flags.to_s(16)} addrlen=#{addrlen} " \
       "ret=#{ret} errno=#{err}"
end

unless [1, 2].include?(ARGV.size) && (ARGV.size == 1 || ARGV[1] == '--plain')
  warn 'usage: tfo_client.rb PORT [--plain]'
  exit 2
end
$stdout.sync = true
to = Socket.sockaddr_in(Integer(ARGV[0]), '127.0.0.1')
fastopen = Socket::MSG_FASTOPEN
puts "tfo_client.rb pid=#{Process.pid}"

s = new_socket(:STREAM)
report('sendmsg', 'tcp', fastopen, 0) { s.sendmsg(PAYLOAD, fastopen) }
s.close

s = new_socket(:STREAM)
report('sendto', 'tcp', fastopen, to.bytesize) { s.send(PAYLOAD, fastopen, to) }
s.close

if ARGV.size == 2
  s = new_socket(:DGRAM)
  report('sendto', 'udp', 0, to.bytesize) { s.send(PAYLOAD, 0, to) }
  s.close
end

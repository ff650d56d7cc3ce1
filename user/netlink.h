/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A few rtnetlink requests over libnl-route-3. Every function returns 0 or a
 * positive errno (libnl's own error codes are translated back).
 */
#ifndef TRACER_NETLINK_H
#define TRACER_NETLINK_H

#include <netlink/socket.h>

/*
 * A connected NETLINK_ROUTE socket (close-on-exec). It acts in the network
 * namespace the caller was in when it was opened, wherever the caller goes
 * afterwards. NULL on failure, with errno set.
 */
struct nl_sock *nl_route_open(void);
void nl_route_close(struct nl_sock *sk);

/*
 * Create the veth pair @name <-> @peer: @name in @sk's namespace, @peer in
 * the namespace @peer_netns_fd refers to (an open /proc/PID/ns/net).
 */
int nl_veth_create(struct nl_sock *sk, const char *name, const char *peer,
		   int peer_netns_fd);
/* Set IFF_UP on link @name of @sk's namespace. */
int nl_link_up(struct nl_sock *sk, const char *name);
/* The ifindex of link @name in @sk's namespace, in @ifindex. */
int nl_link_ifindex(struct nl_sock *sk, const char *name, int *ifindex);

#endif

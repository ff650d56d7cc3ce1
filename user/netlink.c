// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "netlink.h"

/*
 * libnl folds the kernel's errno into its own codes (nl_syserr2nlerr()), so
 * the original errno is gone; map each code back to the errno it most likely
 * came from.
 */
static const int nle_errno[NLE_MAX + 1] = {
	[NLE_INTR] = EINTR,
	[NLE_BAD_SOCK] = EBADF,
	[NLE_AGAIN] = EAGAIN,
	[NLE_NOMEM] = ENOMEM,
	[NLE_EXIST] = EEXIST,
	[NLE_INVAL] = EINVAL,
	[NLE_RANGE] = ERANGE,
	[NLE_MSGSIZE] = EMSGSIZE,
	[NLE_OPNOTSUPP] = EOPNOTSUPP,
	[NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
	[NLE_OBJ_NOTFOUND] = ENOENT,
	[NLE_NOADDR] = EADDRNOTAVAIL,
	[NLE_MSG_TRUNC] = EMSGSIZE,
	[NLE_BUSY] = EBUSY,
	[NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
	[NLE_NOACCESS] = EACCES,
	[NLE_PERM] = EPERM,
	[NLE_NODEV] = ENODEV,
};

/* libnl's (negative) result as 0 or a positive errno. */
static int nl_errno(int nlerr)
{
	int code = nlerr < 0 ? -nlerr : nlerr;

	if (!code)
		return 0;
	if (code <= NLE_MAX && nle_errno[code])
		return nle_errno[code];
	return EPROTO;
}

struct nl_sock *nl_route_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk) {
		errno = ENOMEM;
		return NULL;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(sk);
		errno = nl_errno(err);
		return NULL;
	}
	return sk;
}

void nl_route_close(struct nl_sock *sk)
{
	/* nl_socket_free() closes the socket too. */
	if (sk)
		nl_socket_free(sk);
}

int nl_veth_create(struct nl_sock *sk, const char *name, const char *peer,
		   int peer_netns_fd)
{
	struct rtnl_link *link, *peer_link;
	int err;

	link = rtnl_link_veth_alloc();
	if (!link)
		return ENOMEM;
	/* A reference of our own: the peer lives as long as @link. */
	peer_link = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, name);
	rtnl_link_set_name(peer_link, peer);
	/*
	 * IFLA_NET_NS_FD inside VETH_INFO_PEER: veth_newlink() creates the
	 * peer directly in that namespace, so it never appears in ours.
	 */
	rtnl_link_set_ns_fd(peer_link, peer_netns_fd);
	err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer_link);
	/* Releases the peer as well (veth_free()). */
	rtnl_link_put(link);
	return nl_errno(err);
}

int nl_link_up(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link, *change;
	int err;

	/*
	 * Start from the kernel's view of the link: the request carries the
	 * complete flags word, and do_setlink() applies it as a whole when
	 * the library leaves ifi_change at 0.
	 */
	err = rtnl_link_get_kernel(sk, 0, name, &link);
	if (err < 0)
		return nl_errno(err);
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(link);
		return ENOMEM;
	}
	rtnl_link_set_flags(change, IFF_UP);
	err = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	return nl_errno(err);
}

int nl_link_ifindex(struct nl_sock *sk, const char *name, int *ifindex)
{
	struct rtnl_link *link;
	int err;

	err = rtnl_link_get_kernel(sk, 0, name, &link);
	if (err < 0)
		return nl_errno(err);
	*ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return 0;
}

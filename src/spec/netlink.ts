/**
 * Netlink and generic netlink wire constants and fixed headers, as include/uapi/linux/netlink.h and
 * include/uapi/linux/genetlink.h spell them (issue 6 §3; the devlink family itself is facts/kernel.md
 * §7.1). Netlink is host-endian; every host the model stands for (x86, arm64) is little-endian, so the
 * headers are described as little-endian structs. Attributes flagged NLA_F_NET_BYTEORDER carry
 * big-endian payloads; the attribute codec (kernel/netlink/codec.ts) handles that flag.
 *
 * Written from the headers' names and values as remembered, not checked against a tree in this repo:
 * the test fixtures in test/netlink/ are the independent oracle for the byte layouts.
 *
 * Left out: NETLINK_* protocol numbers other than NETLINK_GENERIC, socket options other than the two
 * that change ack layout, nlmsgerr policy sub-attributes (NL_POLICY_TYPE_ATTR_*), CTRL_ATTR_POLICY and
 * CTRL_ATTR_OP_POLICY contents.
 */
// Imported from its file, not base/index.ts: see the load-order note in struct-codec.ts.
import { defineStruct, le16Field, le32Field, structField, u8Field } from '../base/struct-codec.js';

// --- netlink.h: protocol, alignment, header sizes ---

/** NETLINK_GENERIC, the netlink protocol number of generic netlink sockets. */
export const NETLINK_GENERIC = 16;
/** NLMSG_ALIGNTO: messages are padded to 4 bytes (NLMSG_ALIGN). */
export const NLMSG_ALIGNTO = 4;
/** NLMSG_HDRLEN = NLMSG_ALIGN(sizeof(struct nlmsghdr)). */
export const NLMSG_HDRLEN = 16;
/** NLA_ALIGNTO: attributes are padded to 4 bytes (NLA_ALIGN). */
export const NLA_ALIGNTO = 4;
/** NLA_HDRLEN = NLA_ALIGN(sizeof(struct nlattr)). */
export const NLA_HDRLEN = 4;

/** struct nlmsghdr: `__u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq; __u32 nlmsg_pid`. */
export const Nlmsghdr = defineStruct('nlmsghdr', 16, [
  le32Field('nlmsgLen', 0),
  le16Field('nlmsgType', 4),
  le16Field('nlmsgFlags', 6),
  le32Field('nlmsgSeq', 8),
  le32Field('nlmsgPid', 12),
]);

/** struct nlattr: `__u16 nla_len; __u16 nla_type` (nla_len counts the header, not the padding). */
export const Nlattr = defineStruct('nlattr', 4, [le16Field('nlaLen', 0), le16Field('nlaType', 2)]);

// --- nlmsg_flags (netlink.h) ---

/** Standard flag bits. */
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;

/** Modifiers to GET requests. */
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_ATOMIC = 0x400;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

/** Modifiers to NEW requests. */
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;

/** Modifiers to DELETE requests. */
export const NLM_F_NONREC = 0x100;
export const NLM_F_BULK = 0x200;

/** Flags for ACK (NLMSG_ERROR) messages. */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

// --- Reserved message types (netlink.h) ---

export const NLMSG_NOOP = 0x1;
export const NLMSG_ERROR = 0x2;
export const NLMSG_DONE = 0x3;
export const NLMSG_OVERRUN = 0x4;
/** NLMSG_MIN_TYPE: types below this are reserved control messages. */
export const NLMSG_MIN_TYPE = 0x10;

/**
 * struct nlmsgerr: `int error; struct nlmsghdr msg`. SPEC-DEVIATION: the struct codec has no signed
 * fields, so `int error` is an le32; -EINVAL reads back as 0xffffffea. Callers convert with `x | 0`.
 */
export const Nlmsgerr = defineStruct('nlmsgerr', 20, [
  le32Field('error', 0),
  structField('msg', 4, Nlmsghdr),
]);
export const NLMSGERR_SIZE_BYTES = 20;
/** The `int` status payload of NLMSG_DONE (af_netlink.c dump_done_errno; our struct name). Same le32 note. */
export const NlmsgDone = defineStruct('nlmsg_done', 4, [le32Field('status', 0)]);

/** enum nlmsgerr_attrs: extended ACK TLVs after the nlmsgerr payload (NLM_F_ACK_TLVS). */
export const NLMSGERR_ATTR_UNUSED = 0;
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_POLICY = 4;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

/** Socket options that change ack layout (SOL_NETLINK). */
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

// --- struct nlattr type bits (netlink.h) ---

export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

// --- genetlink.h ---

/** struct genlmsghdr: `__u8 cmd; __u8 version; __u16 reserved`. */
export const Genlmsghdr = defineStruct('genlmsghdr', 4, [
  u8Field('cmd', 0),
  u8Field('version', 1),
  le16Field('reserved', 2),
]);
/** GENL_HDRLEN = NLMSG_ALIGN(sizeof(struct genlmsghdr)). */
export const GENL_HDRLEN = 4;
/** GENL_NAMSIZ: family and multicast group names, including the NUL. */
export const GENL_NAMSIZ = 16;

/** Operation flags as reported in CTRL_ATTR_OP_FLAGS. */
export const GENL_ADMIN_PERM = 0x01;
export const GENL_CMD_CAP_DO = 0x02;
export const GENL_CMD_CAP_DUMP = 0x04;
export const GENL_CMD_CAP_HASPOL = 0x08;
export const GENL_UNS_ADMIN_PERM = 0x10;

/** The controller family's fixed id: GENL_ID_CTRL = NLMSG_MIN_TYPE. */
export const GENL_ID_CTRL = NLMSG_MIN_TYPE;

/** enum CTRL_CMD_* (genetlink.h). */
export const CTRL_CMD_UNSPEC = 0;
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_DELFAMILY = 2;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_CMD_NEWOPS = 4;
export const CTRL_CMD_DELOPS = 5;
export const CTRL_CMD_GETOPS = 6;
export const CTRL_CMD_NEWMCAST_GRP = 7;
export const CTRL_CMD_DELMCAST_GRP = 8;
export const CTRL_CMD_GETMCAST_GRP = 9;
export const CTRL_CMD_GETPOLICY = 10;

/** enum CTRL_ATTR_* (genetlink.h). */
export const CTRL_ATTR_UNSPEC = 0;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;
export const CTRL_ATTR_HDRSIZE = 4;
export const CTRL_ATTR_MAXATTR = 5;
export const CTRL_ATTR_OPS = 6;
export const CTRL_ATTR_MCAST_GROUPS = 7;
export const CTRL_ATTR_POLICY = 8;
export const CTRL_ATTR_OP_POLICY = 9;
export const CTRL_ATTR_OP = 10;

/** enum CTRL_ATTR_OP_* (genetlink.h), inside each CTRL_ATTR_OPS entry. */
export const CTRL_ATTR_OP_UNSPEC = 0;
export const CTRL_ATTR_OP_ID = 1;
export const CTRL_ATTR_OP_FLAGS = 2;

/** enum CTRL_ATTR_MCAST_GRP_* (genetlink.h), inside each CTRL_ATTR_MCAST_GROUPS entry. */
export const CTRL_ATTR_MCAST_GRP_UNSPEC = 0;
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
export const CTRL_ATTR_MCAST_GRP_ID = 2;

/**
 * The controller family's own version as the kernel registers it (net/netlink/genetlink.c, genl_ctrl
 * `.version = 0x2`); replies carry it in genlmsghdr.version.
 */
export const GENL_CTRL_VERSION = 2;

/* synack: a user-space TCP/IP stack. Include this for everything. */
#ifndef SYNACK_SYNACK_H
#define SYNACK_SYNACK_H
#include "synack/stack.h"
#include "synack/addr.h"
#include "synack/tcp.h"
#include "synack/trace.h"
#include "synack/observe.h"
#include "synack/pcap.h"
#include "synack/memlink.h"
#include "synack/sim.h"
#include "synack/udp.h"
#include "synack/tap.h"
#include "synack/loop.h"
#include "synack/socket.h"
#include "synack/blocking.h"
#endif

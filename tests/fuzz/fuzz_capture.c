/* libFuzzer target: reading captures as `synack trace` does (tools/capture.c through libpcap)
 * and the passive observer behind it (sk_observer_input).
 * Input, used twice each run:
 *  - the whole input as a capture file, through fmemopen and pcap_fopen_offline (libpcap's
 *    pcap and pcapng readers, then capture_decap for the file's link type), every IP packet
 *    fed to an observer;
 *  - the first byte choosing one of the link types capture_decap knows and the rest as one
 *    frame, so that every decapsulation is reached whatever the file parser accepts.
 * libpcap itself is not instrumented (Debian's build): the fuzzer steers by our code's branches.
 * Properties: the IP packet handed on lies inside the frame, captured <= wire_len, times never
 * go backwards, and nothing crashes or leaks (ASan).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "fuzz_common.h"
#include "synack/synack.h"

static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                           DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP};

static void check_packet(const struct capture_packet *p, const uint8_t *frame, size_t caplen)
{
    FUZZ_CHECK(p->ip >= frame && p->ip + p->captured == frame + caplen);
    FUZZ_CHECK(p->captured <= p->wire_len);
}

static void from_file(const uint8_t *data, size_t size, struct sk_observer *obs)
{
    /* fmemopen wants a writable buffer in some libcs: an exact-size copy, as ASan likes. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    FILE *f = size ? fmemopen(copy, size, "rb") : NULL;
    char err[512];
    struct capture *c = f ? capture_fopen(f, err, sizeof(err)) : NULL;
    if (c) {
        struct capture_packet p;
        sk_time_us last = 0;
        int n = 0;
        while (n++ < 4096 && capture_next(c, &p) == 1) {
            FUZZ_CHECK(p.t >= last);
            FUZZ_CHECK(p.captured <= p.wire_len);
            last = p.t;
            sk_observer_input(obs, p.t, p.ip, p.captured, p.wire_len);
        }
        capture_close(c);
    }
    free(copy);
}

static void one_frame(const uint8_t *data, size_t size, struct sk_observer *obs)
{
    if (size < 2)
        return;
    int dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
    size_t caplen = size - 1;
    uint8_t *frame = malloc(caplen);
    if (!frame)
        return;
    memcpy(frame, data + 1, caplen);
    struct capture_packet p;
    if (capture_decap(dlt, frame, caplen, caplen + (data[0] >> 4), &p) == CAPTURE_IP) {
        check_packet(&p, frame, caplen);
        sk_observer_input(obs, 0, p.ip, p.captured, p.wire_len);
    }
    free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sk_observer *obs = sk_observer_new(NULL);
    if (!obs)
        return 0;
    from_file(data, size, obs);
    one_frame(data, size, obs);
    sk_observer_free(obs);
    return 0;
}

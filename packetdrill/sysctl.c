/* Host sysctl commands in the middle of a script (`sysctl -q net.ipv4.tcp_ecn=2` after some
 * connections already ran) change the kernel packetdrill would test, not the adapter. The
 * runner (tests/packetdrill/run-packetdrill.sh) turns each such command into a line
 * "net.ipv4.NAME=VALUE" appended to a file named by the sysctl_file= flag; here, before every
 * socket call, the lines added since the last look are applied to the stack's settings
 * (sk_stack_set_setting), or to the configuration it will be made from. Settings the adapter
 * has no equivalent for are reported once on stderr and skipped. `ip tcp_metrics flush` comes
 * as the line "tcp_metrics_flush=0": the Fast Open client cache is emptied. `tc qdisc
 * replace dev tun0 root fq` comes as "qdisc_fq=1" (another root qdisc as "qdisc_fq=0"): fq
 * paces every socket through it, so the stack paces (sk_config.pacing); a root qdisc that
 * holds nothing (`pfifo limit 0`) as "qdisc_drop=1": every frame is refused
 * (sk_stack_output_refused), as the kernel's qdisc drops it before the device. */
#include "adapter_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pd_sysctl_option(struct pd *pd, const char *key, const char *val)
{
    if (strcmp(key, "sysctl_file") != 0)
        return false;
    free(pd->sysctl_path);
    pd->sysctl_path = strdup(val);
    pd->sysctl_off = 0;
    return true;
}

/* One "net.ipv4.tcp_NAME=VALUE": Linux's name, its value as the kernel parses it. */
static void apply(struct pd *pd, const char *name, uint32_t v)
{
    static const struct {
        const char *name;
        enum sk_setting which;
    } map[] = {
        {"net.ipv4.tcp_ecn", SK_SET_ECN},
        {"net.ipv4.tcp_fastopen", SK_SET_TFO},
        {"net.ipv4.tcp_timestamps", SK_SET_OPT_TIMESTAMPS},
        {"net.ipv4.tcp_sack", SK_SET_OPT_SACK},
        {"net.ipv4.tcp_window_scaling", SK_SET_OPT_WSCALE},
        {"net.ipv4.tcp_min_tso_segs", SK_SET_TSO_MIN_SEGS},
        {"net.ipv4.tcp_pacing_ss_ratio", SK_SET_PACING_SS_RATIO},
        {"net.ipv4.tcp_pacing_ca_ratio", SK_SET_PACING_CA_RATIO},
        {"qdisc_fq", SK_SET_PACING},
        {"net.ipv4.tcp_slow_start_after_idle", SK_SET_SLOW_START_AFTER_IDLE},
    };
    if (strcmp(name, "qdisc_drop") == 0) { /* `tc qdisc ... root pfifo limit 0` */
        pd->qdisc_drop = v != 0;
        return;
    }
    if (strcmp(name, "tcp_metrics_flush") == 0) { /* `ip tcp_metrics flush [all]` */
        if (pd->st)
            sk_tcp_fastopen_forget(pd->st, NULL);
        return;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(name, map[i].name) != 0)
            continue;
        enum sk_setting w = map[i].which;
        /* tcp_timestamps 2 is timestamps without a per-connection offset: still on. */
        if (w == SK_SET_OPT_TIMESTAMPS || w == SK_SET_OPT_SACK || w == SK_SET_OPT_WSCALE ||
            w == SK_SET_SLOW_START_AFTER_IDLE)
            v = v != 0;
        /* The adapter's copy of the configuration (what later stacks are made from, and what
         * its own calls consult, as sendto's MSG_FASTOPEN does), and the running stack. */
        switch (w) {
        case SK_SET_ECN: pd->cfg.ecn = (uint8_t)v; break;
        case SK_SET_TFO: pd->cfg.tfo = v; break;
        case SK_SET_OPT_TIMESTAMPS: pd->cfg.opt_timestamps = v != 0; break;
        case SK_SET_OPT_SACK: pd->cfg.opt_sack = v != 0; break;
        case SK_SET_OPT_WSCALE: pd->cfg.opt_wscale = v != 0; break;
        case SK_SET_TSO_MIN_SEGS: pd->cfg.tso_min_segs = (uint8_t)v; break;
        case SK_SET_PACING: pd->cfg.pacing = v != 0; break;
        case SK_SET_PACING_SS_RATIO: pd->cfg.pacing_ss_ratio = (uint16_t)v; break;
        case SK_SET_PACING_CA_RATIO: pd->cfg.pacing_ca_ratio = (uint16_t)v; break;
        case SK_SET_SLOW_START_AFTER_IDLE: pd->cfg.slow_start_after_idle = v != 0; break;
        }
        if (pd->st && sk_stack_set_setting(pd->st, w, v) != 0)
            fprintf(stderr, "synack-packetdrill: %s=%u not taken\n", name, (unsigned)v);
        return;
    }
    fprintf(stderr, "synack-packetdrill: sysctl %s has no equivalent here, skipped\n", name);
}

void pd_sysctl_poll(struct pd *pd)
{
    if (pd->sysctl_path == NULL)
        return;
    FILE *f = fopen(pd->sysctl_path, "r");
    if (f == NULL)
        return;
    if (fseek(f, pd->sysctl_off, SEEK_SET) == 0) {
        char line[256];
        while (fgets(line, sizeof(line), f)) {
            if (strchr(line, '\n') == NULL)
                break; /* a line still being written: read it next time */
            pd->sysctl_off = ftell(f);
            line[strcspn(line, "\r\n")] = '\0';
            char *eq = strchr(line, '=');
            if (eq == NULL)
                continue;
            *eq = '\0';
            apply(pd, line, (uint32_t)strtoul(eq + 1, NULL, 0));
        }
    }
    fclose(f);
}

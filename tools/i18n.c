/* synack CLI: the words of `synack trace`, in English and Simplified Chinese (see i18n.h).
 *
 * The Chinese follows the vocabulary of the textbooks learners read on TCP: 三次握手 for the
 * three-way handshake, 四次挥手 for the four-way close, 半关闭, 重传, 快速重传, 重复确认, 选择确认
 * (SACK), 零窗口, 窗口探测, 乱序, 保活, 复位 (RST), 序号, 确认号, 初始序号 (ISN). RFC 9293's
 * state names and the flags stay as the RFC spells them.
 *
 * A note's text is a printf format over its arguments, each conversion naming which one:
 * %A and %B a and b as numbers, %T a as a duration (µs), %S the segment's SACK blocks, %O the
 * options agreed (a, b of SK_OBS_OPTIONS).
 */
#include "i18n.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const note_text[SK_OBS_NOTE_COUNT][LANG_COUNT] = {
    [SK_OBS_NOTE_NONE] = {"", ""},
    [SK_OBS_HANDSHAKE_SYN] = {"three-way handshake 1/3: SYN, ISN %A",
                              "三次握手 1/3：SYN，初始序号 ISN %A"},
    [SK_OBS_HANDSHAKE_SYNACK] = {"three-way handshake 2/3: SYN|ACK, ISN %A, acknowledges the "
                                 "SYN's ISN+1",
                                 "三次握手 2/3：SYN|ACK，初始序号 ISN %A，确认号为对方 ISN+1"},
    [SK_OBS_HANDSHAKE_ACK] = {"three-way handshake 3/3: ACK of the SYN|ACK's ISN+1, connection "
                              "established",
                              "三次握手 3/3：确认对方 ISN+1，连接建立"},
    [SK_OBS_SIMULTANEOUS_OPEN] = {"simultaneous open: the two SYNs cross",
                                  "同时打开：双方的 SYN 交叉而过"},
    [SK_OBS_SYN_RETRANSMIT] = {"SYN retransmitted after %T", "SYN 重传（%T后）"},
    [SK_OBS_SYN_BAD_ACK] = {"SYN|ACK acknowledges %B, not the SYN's ISN+1 (%A)",
                            "SYN|ACK 的确认号 %B 不是对方 ISN+1（%A）"},
    [SK_OBS_OPTIONS] = {"options agreed: %O", "协商的选项：%O"},
    [SK_OBS_RETRANSMIT] = {"retransmission after %T (%B bytes)", "重传（%T后，%B 字节）"},
    [SK_OBS_FAST_RETRANSMIT] = {"fast retransmit after %B duplicate ACKs (%T since last sent)",
                                "快速重传：%B 个重复确认之后（距上次发送 %T）"},
    [SK_OBS_DUP_ACK] = {"duplicate ACK #%A", "重复确认 #%A"},
    [SK_OBS_SACK] = {"SACK, %A block(s):%S", "选择确认 SACK，%A 个块：%S"},
    [SK_OBS_DSACK] = {"D-SACK: the first block was received twice",
                      "D-SACK：第一个块的数据收到了两次"},
    [SK_OBS_OUT_OF_ORDER] = {"out of order: %A bytes missing before it",
                             "乱序：前面缺少 %A 字节"},
    [SK_OBS_FILLS_GAP] = {"fills a gap of %A bytes (arrived late, or first seen here)",
                          "填补 %A 字节的空缺（迟到，或在此首次出现）"},
    [SK_OBS_CAPTURE_MISSED] = {"acknowledges %A bytes the capture never showed (missed by the "
                               "capture)",
                               "确认了抓包中没有出现的 %A 字节（抓包遗漏）"},
    [SK_OBS_ACK_UNSEEN] = {"acknowledges data the peer never sent",
                           "确认号超出了对方发送过的数据"},
    [SK_OBS_SPURIOUS_RETRANSMIT] = {"D-SACK shows a retransmission was not needed",
                                    "D-SACK 表明有一次重传并不需要（虚假重传）"},
    [SK_OBS_ZERO_WINDOW] = {"zero window: the sender's receive buffer is full",
                            "零窗口：发送方的接收缓冲区已满"},
    [SK_OBS_WINDOW_OPEN] = {"window opens again: %A bytes", "窗口重新打开：%A 字节"},
    [SK_OBS_WINDOW_PROBE] = {"window probe (%A bytes)", "窗口探测（%A 字节）"},
    [SK_OBS_WINDOW_FULL] = {"fills the peer's advertised window", "填满了对方通告的窗口"},
    [SK_OBS_WINDOW_UPDATE] = {"window update", "窗口更新"},
    [SK_OBS_KEEPALIVE] = {"keep-alive probe", "保活探测（keep-alive）"},
    [SK_OBS_KEEPALIVE_ACK] = {"answers a keep-alive", "回应保活探测"},
    [SK_OBS_FIN] = {"FIN: no more data from this side (%A bytes sent in all)",
                    "FIN：本方不再发送数据（共发送 %A 字节）"},
    [SK_OBS_HALF_CLOSE] = {"half-close: data after the peer's FIN",
                           "半关闭：对方发出 FIN 之后本方仍在发送数据"},
    [SK_OBS_FIN_ACKED] = {"acknowledges the peer's FIN (its sequence number + 1)",
                          "确认对方的 FIN（其序号 + 1）"},
    [SK_OBS_SIMULTANEOUS_CLOSE] = {"simultaneous close: the two FINs cross",
                                   "同时关闭：双方的 FIN 交叉而过"},
    [SK_OBS_TIME_WAIT] = {"the sender enters TIME-WAIT (2 MSL)",
                          "发送方进入 TIME-WAIT（等待 2 MSL）"},
    [SK_OBS_FIN_RETRANSMIT] = {"FIN retransmitted after %T", "FIN 重传（%T后）"},
    [SK_OBS_RST_REFUSED] = {"RST: connection refused, nobody listens on that port",
                            "复位 RST：连接被拒绝，该端口没有监听"},
    [SK_OBS_RST_ABORT] = {"RST: the application aborted the connection",
                          "复位 RST：应用程序中止了连接"},
    [SK_OBS_RST_NO_CONNECTION] = {"RST: the sender has no such connection (any more)",
                                  "复位 RST：发送方（已）没有这个连接"},
    [SK_OBS_RST_IGNORED] = {"RST outside the receiver's window: it will be ignored",
                            "复位 RST 不在接收窗口内：将被忽略"},
    [SK_OBS_RST_SYN_SENT] = {"RST: the opener gives up its own opening",
                             "复位 RST：发起方放弃了连接的建立"},
    [SK_OBS_CHALLENGE_ACK] = {"challenge ACK (RFC 5961)", "挑战确认 challenge ACK（RFC 5961）"},
    [SK_OBS_MID_STREAM] = {"the capture starts mid-connection: its opening is not in it",
                           "抓包从连接中途开始：没有三次握手"},
    [SK_OBS_SNAPLEN_CUT] = {"the capture kept %A of %B payload bytes (snap length)",
                            "抓包只保留了 %B 字节载荷中的 %A 字节（截断长度）"},
    [SK_OBS_AFTER_CLOSE] = {"segment after the connection closed",
                            "连接关闭之后的报文段"},
};

static const char *const end_text[][LANG_COUNT] = {
    [SK_OBS_END_OPEN] = {"still open at the end of the capture", "抓包结束时连接仍然打开"},
    [SK_OBS_END_HANDSHAKE] = {"handshake not finished", "三次握手未完成"},
    [SK_OBS_END_REFUSED] = {"refused (the SYN was answered by a RST)",
                            "连接被拒绝（SYN 收到复位 RST）"},
    [SK_OBS_END_CLOSED] = {"closed by both sides (four-way close)", "双方关闭（四次挥手）"},
    [SK_OBS_END_HALF_CLOSED] = {"half-closed (one side's FIN only)",
                                "半关闭（只有一方发送了 FIN）"},
    [SK_OBS_END_RESET] = {"reset (RST)", "被复位 RST 终止"},
};

static const char *const words[W_COUNT][LANG_COUNT] = {
    [W_CLIENT] = {"client", "客户端"},
    [W_SERVER] = {"server", "服务器"},
    [W_TIME_MS] = {"time ms", "时间 毫秒"},
    [W_SEQ_REL] = {"seq (relative)", "序号（相对）"},
    [W_ACK_REL] = {"ack (relative)", "确认号（相对）"},
    [W_WIN_LEN_OPTS] = {"window    len  options", "窗口      长度 选项"},
    [W_CONNECTION] = {"connection", "连接"},
    [W_CAPTURE] = {"capture", "抓包"},
    [W_FIRST_PACKET] = {"first packet at", "第一个报文的时间"},
    [W_SEGMENTS] = {"segments", "报文段"},
    [W_BYTES] = {"bytes", "字节"},
    [W_DURATION] = {"duration", "时长"},
    [W_ENDED] = {"ended", "结束方式"},
    [W_RESET_BY] = {"reset by", "复位方"},
    [W_MID_STREAM] = {"(its opening is not in the capture)", "（抓包中没有它的建立过程）"},
    [W_NO_CONNECTIONS] = {"no TCP connection in the capture", "抓包中没有 TCP 连接"},
    [W_STATES] = {"states", "状态"},
    [W_RETRANSMITS] = {"retransmissions", "重传"},
};

int i18n_parse(const char *s, enum lang *out) {
    if (!s)
        return -1;
    if (strncmp(s, "zh", 2) == 0 && (s[2] == '\0' || s[2] == '_' || s[2] == '-' ||
                                     s[2] == '.')) {
        *out = LANG_ZH;
        return 0;
    }
    if ((strncmp(s, "en", 2) == 0 && (s[2] == '\0' || s[2] == '_' || s[2] == '-' ||
                                      s[2] == '.')) ||
        strcmp(s, "C") == 0 || strncmp(s, "C.", 2) == 0 || strcmp(s, "POSIX") == 0) {
        *out = LANG_EN;
        return 0;
    }
    return -1;
}

enum lang i18n_from_env(void) {
    /* POSIX's order of precedence: the first of these that is set and not empty decides. */
    static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strncmp(v, "zh", 2) == 0 ? LANG_ZH : LANG_EN;
    }
    return LANG_EN;
}

const char *i18n_code(enum lang l) {
    return l == LANG_ZH ? "zh" : "en";
}

static enum lang valid(enum lang l) {
    return l == LANG_ZH ? LANG_ZH : LANG_EN;
}

const char *i18n_end(enum lang l, enum sk_obs_end e) {
    if ((unsigned)e >= sizeof(end_text) / sizeof(end_text[0]))
        return "?";
    return end_text[e][valid(l)];
}

/* Timers by what they are for (RFC 6298, RFC 9293 §3.8.6.1, §3.8.4, §3.6, RFC 8985 §7). */
static const char *const timer_text[SK_TIMER_COUNT][LANG_COUNT] = {
    [SK_TIMER_RETRANSMIT] = {"retransmission timer (RTO)", "重传定时器（RTO）"},
    [SK_TIMER_PERSIST] = {"persist timer (zero-window probe)", "坚持定时器（零窗口探测）"},
    [SK_TIMER_DELACK] = {"delayed-ACK timer", "延迟确认定时器"},
    [SK_TIMER_KEEPALIVE] = {"keep-alive timer", "保活定时器"},
    [SK_TIMER_TIME_WAIT] = {"TIME-WAIT timer (2 MSL)", "TIME-WAIT 定时器（2 MSL）"},
    [SK_TIMER_USER_TIMEOUT] = {"user timeout", "用户超时（user timeout）"},
    [SK_TIMER_TLP] = {"tail loss probe timer (TLP)", "尾部丢失探测定时器（TLP）"},
    [SK_TIMER_RACK] = {"RACK reordering timer", "RACK 乱序定时器"},
    [SK_TIMER_PACE] = {"pacing timer (next departure)", "发送节拍定时器（下一次发送时刻）"},
};

const char *i18n_timer(enum lang l, enum sk_timer_kind k) {
    if ((unsigned)k >= SK_TIMER_COUNT || !timer_text[k][0])
        return sk_timer_name(k);
    return timer_text[k][valid(l)];
}

const char *i18n_word(enum lang l, enum i18n_word w) {
    if ((unsigned)w >= W_COUNT)
        return "?";
    return words[w][valid(l)];
}

/* A duration given in µs, as people read it. */
static int duration(enum lang l, uint64_t us, char *buf, size_t size) {
    bool zh = l == LANG_ZH;
    if (us < 1000)
        return snprintf(buf, size, "%" PRIu64 " %s", us, zh ? "微秒" : "µs");
    if (us < 10000000)
        return snprintf(buf, size, "%.1f %s", (double)us / 1e3, zh ? "毫秒" : "ms");
    return snprintf(buf, size, "%.1f %s", (double)us / 1e6, zh ? "秒" : "s");
}

/* The SACK blocks, relative to the receiver's ISN (the ACK's sequence space) when known. */
static int sack_blocks(const struct sk_obs_segment *s, char *buf, size_t size) {
    uint32_t base = s->rel_known ? s->seg.ack - s->rel_ack : 0;
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->seg.nsack && i < 4; i++)
        n += (size_t)snprintf(buf + n, n < size ? size - n : 0, " %" PRIu32 "-%" PRIu32,
                              s->seg.sack[i].left - base, s->seg.sack[i].right - base);
    return (int)n;
}

static int options_agreed(enum lang l, uint64_t bits, uint64_t scales, char *buf, size_t size) {
    bool zh = l == LANG_ZH;
    size_t n = 0;
#define ADD(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
    buf[0] = '\0';
    if (bits & SK_OPT_MSS)
        ADD("%sMSS", n ? ", " : "");
    if (bits & SK_OPT_SACK_PERM)
        ADD("%s%s", n ? ", " : "", zh ? "选择确认 SACK" : "SACK");
    if (bits & SK_OPT_TIMESTAMP)
        ADD("%s%s", n ? ", " : "", zh ? "时间戳" : "timestamps");
    if ((bits & SK_OPT_WSCALE) && scales != 0xffff)
        ADD("%s%s %u/%u", n ? ", " : "", zh ? "窗口扩大因子" : "window scale",
            (unsigned)(scales >> 8 & 0xff), (unsigned)(scales & 0xff));
    if (n == 0)
        ADD("%s", zh ? "无" : "none");
#undef ADD
    return (int)n;
}

/* The FIN in the four-way close (RFC 9293 §3.6), told by its sender's state before it: the
 * first FIN (from ESTABLISHED) opens the half-close, the second (from CLOSE-WAIT) ends it. */
static const char *const fin_first[LANG_COUNT] = {
    "four-way close 1/4, FIN: this side sends no more (%A bytes in all) but still receives: "
    "half-close",
    "四次挥手 1/4，FIN：本方不再发送数据（共发送 %A 字节），仍可接收：半关闭"};
static const char *const fin_second[LANG_COUNT] = {
    "four-way close 3/4, FIN: this side is done too (%A bytes sent in all)",
    "四次挥手 3/4，FIN：本方也发送完毕（共发送 %A 字节）"};
/* The ACK of the first FIN is 2/4 (from CLOSE-WAIT's side), that of the second 4/4. */
static const char *const fin_acked[2][LANG_COUNT] = {
    {"four-way close 2/4: acknowledges the peer's FIN (its sequence number + 1)",
     "四次挥手 2/4：确认对方的 FIN（其序号 + 1）"},
    {"four-way close 4/4: acknowledges the peer's FIN (its sequence number + 1)",
     "四次挥手 4/4：确认对方的 FIN（其序号 + 1）"}};

static const char *note_format(enum lang l, const struct sk_obs_note *nt,
                               const struct sk_obs_segment *s)
{
    if (s && nt->kind == SK_OBS_FIN) {
        enum sk_tcp_state was = s->state_before[s->from];
        if (was == SK_TCP_ESTABLISHED || was == SK_TCP_SYN_RECEIVED)
            return fin_first[l];
        if (was == SK_TCP_CLOSE_WAIT)
            return fin_second[l];
    }
    if (s && nt->kind == SK_OBS_FIN_ACKED) {
        /* The sender acknowledges the peer's FIN: the first FIN from CLOSE-WAIT (the peer
         * closed first), the second from TIME-WAIT with the peer in LAST-ACK (it closed
         * first). A simultaneous close (CLOSING) keeps the plain words. */
        if (s->state_before[s->from] == SK_TCP_CLOSE_WAIT ||
            s->state_after[s->from] == SK_TCP_CLOSE_WAIT)
            return fin_acked[0][l];
        if (s->state_after[s->from] == SK_TCP_TIME_WAIT &&
            s->state_before[!s->from] == SK_TCP_LAST_ACK)
            return fin_acked[1][l];
    }
    return note_text[nt->kind][l];
}

void i18n_note(enum lang l, const struct sk_obs_note *nt, const struct sk_obs_segment *s,
               char *buf, size_t size) {
    if (size == 0)
        return;
    buf[0] = '\0';
    if ((unsigned)nt->kind >= SK_OBS_NOTE_COUNT || !note_text[nt->kind][0]) {
        snprintf(buf, size, "note %d", (int)nt->kind);
        return;
    }
    l = valid(l);
    const char *f = note_format(l, nt, s);
    size_t n = 0;
    char tmp[160];
    for (; *f && n + 1 < size; f++) {
        if (*f != '%' || !f[1]) {
            buf[n++] = *f;
            continue;
        }
        f++;
        tmp[0] = '\0';
        switch (*f) {
        case 'A': snprintf(tmp, sizeof(tmp), "%" PRIu64, nt->a); break;
        case 'B': snprintf(tmp, sizeof(tmp), "%" PRIu64, nt->b); break;
        case 'T': duration(l, nt->a, tmp, sizeof(tmp)); break;
        case 'S': if (s) sack_blocks(s, tmp, sizeof(tmp)); break;
        case 'O': options_agreed(l, nt->a, nt->b, tmp, sizeof(tmp)); break;
        default: snprintf(tmp, sizeof(tmp), "%%%c", *f); break;
        }
        for (const char *t = tmp; *t && n + 1 < size; t++)
            buf[n++] = *t;
    }
    /* Cut short by size: never leave half a UTF-8 character at the end. */
    if (*f)
        while (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
            n--;
    if (*f && n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0xc0)
        n--;
    buf[n] = '\0';
}

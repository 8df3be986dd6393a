/* sockdiff: runs every scenario on the kernel and on synack and compares the results step by
 * step (issue 11). Each side of each scenario runs in a child process of its own, writing its
 * results to shared memory: a crash names the step it happened in and the run goes on, and on
 * the kernel side the child's network namespace dies with it.
 *
 * Usage: sockdiff [-v] [-s SCENARIO] [--api docs/api.md] [--no-netns] FILE.sd...
 * Exit: 0 all agree or differ as documented; 1 a difference not documented, a stale
 * annotation, an unknown id, a parse error or a crash; 77 not root (without --no-netns). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sockdiff.h"

#ifndef SD_SOURCE_DIR
#define SD_SOURCE_DIR "."
#endif
#define MAX_IDS 128

/* What one side's child leaves behind. */
struct side_out {
    int started;                        /* steps begun: a crash happened in the last */
    int skip;                           /* the backend skipped the scenario (77) */
    int rc[SD_MAX_STEPS];               /* 0 compared, 1 nothing to compare, -1 scenario error */
    char res[SD_MAX_STEPS][SD_RESULT_LEN];
};

struct totals {
    int scenarios, compared, differ, documented, undocumented, stale, failures;
    int run_only;                       /* --synack-only: steps run, nothing compared */
    char *ids[MAX_IDS];                 /* documented ids seen, once each */
    int nids;
};

static struct {
    bool verbose, no_netns;
    bool synack_only; /* memory checkers: synack's side alone, see usage() */
    const char *only, *api_path, *api_shown;
    char *api_ids[MAX_IDS];
    int n_api_ids;
} opt;

/* A path as printed: relative to the source tree when it is inside it. */
static const char *shown_path(const char *path)
{
    size_t n = strlen(SD_SOURCE_DIR);
    if (strncmp(path, SD_SOURCE_DIR, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

/* Ids in the first column of the "## Differences from Linux" table of docs/api.md. */
static int read_api_ids(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    char line[2048];
    bool in = false;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "## ", 3) == 0)
            in = strncmp(line, "## Differences from Linux", 25) == 0;
        if (!in || line[0] != '|' || opt.n_api_ids == MAX_IDS)
            continue;
        char *id = line + 1, *end = strchr(id, '|');
        if (end == NULL)
            continue;
        *end = '\0';
        while (*id == ' ' || *id == '`')
            id++;
        size_t n = strlen(id);
        while (n > 0 && (id[n - 1] == ' ' || id[n - 1] == '`'))
            id[--n] = '\0';
        if (n > 0 && strcmp(id, "id") != 0 && strspn(id, "-:") != n)
            opt.api_ids[opt.n_api_ids++] = strdup(id);
    }
    fclose(f);
    return 0;
}

static bool api_has(const char *id)
{
    for (int i = 0; i < opt.n_api_ids; i++)
        if (strcmp(opt.api_ids[i], id) == 0)
            return true;
    return false;
}

static void note_id(struct totals *t, const char *id)
{
    for (int i = 0; i < t->nids; i++)
        if (strcmp(t->ids[i], id) == 0)
            return;
    if (t->nids < MAX_IDS)
        t->ids[t->nids++] = (char *)id;
}

/* The child: one scenario on one backend. */
static void run_side(struct sd_backend *b, const struct sd_scenario *sc, struct side_out *o)
{
    int rc = b->begin(b, sc);
    if (rc == 77) {
        o->skip = 1;
        return;
    }
    if (rc != 0) {
        o->started = -1;
        return;
    }
    struct sd_run *r = calloc(1, sizeof(*r));
    if (r == NULL)
        exit(2);
    pthread_mutex_init(&r->lock, NULL);
    r->b = b;
    r->sc = sc;
    for (int i = 0; i < sc->nsteps; i++) {
        o->started = i + 1;
        o->rc[i] = sd_step_run(r, &sc->steps[i], o->res[i], SD_RESULT_LEN);
    }
    sd_run_finish(r);
    pthread_mutex_destroy(&r->lock);
    free(r);
    b->end(b);
}

/* Runs one side in a child; returns its wait status. */
static int fork_side(struct sd_backend *b, const struct sd_scenario *sc, struct side_out *o)
{
    memset(o, 0, sizeof(*o));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("sockdiff: fork");
        return -1;
    }
    if (pid == 0) {
        run_side(b, sc, o);
        fflush(stdout);
        exit(o->started < 0 ? 2 : 0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

/* Reports a child that did not end cleanly; true if it did. */
static bool side_ok(const char *name, const struct sd_scenario *sc, const struct side_out *o,
                    int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return true;
    int i = o->started - 1;
    const struct sd_step *st = i >= 0 && i < sc->nsteps ? &sc->steps[i] : NULL;
    if (WIFSIGNALED(status))
        printf("CRASH %s: %s (signal %d, %s)", name, sc->name, WTERMSIG(status),
               strsignal(WTERMSIG(status)));
    else
        printf("FAIL %s: %s (exit status %d)", name, sc->name,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (st != NULL)
        printf(" at %s:%d: %s", sc->file, st->line, st->text);
    printf("\n");
    return false;
}

static void print_step(const char *tag, const struct sd_scenario *sc, const struct sd_step *st,
                       const char *k, const char *s)
{
    printf("%s %s:%d [%s] %s\n", tag, sc->file, st->line, sc->name, st->text);
    printf("    kernel: %s\n    synack: %s\n", k, s);
}

/* Compares step i of both sides. */
static void compare_step(const struct sd_scenario *sc, int i, const struct side_out *ko,
                         const struct side_out *so, struct totals *t)
{
    const struct sd_step *st = &sc->steps[i];
    const char *k = ko->res[i], *s = so->res[i];
    if (ko->rc[i] < 0 || so->rc[i] < 0) {
        printf("ERROR %s:%d [%s] %s: %s\n", sc->file, st->line, sc->name, st->text,
               ko->rc[i] < 0 ? k : s);
        t->failures++;
        return;
    }
    if (ko->rc[i] == 1)
        return; /* settle: nothing to compare */
    t->compared++;
    bool same = strcmp(k, s) == 0;
    const char *mark = same ? (st->diff_id ? "STALE" : "") : (st->diff_id ? "documented" : "DIFF");
    if (opt.verbose)
        printf("  %4d %-44s %-30s %-30s %s%s%s\n", st->line, st->text, k, s, mark,
               st->diff_id && !same ? " !" : "", st->diff_id && !same ? st->diff_id : "");
    if (!same) {
        t->differ++;
        if (st->diff_id == NULL) {
            t->undocumented++;
            if (!opt.verbose)
                print_step("DIFF", sc, st, k, s);
        } else if (!api_has(st->diff_id)) {
            t->undocumented++;
            printf("UNKNOWN-ID %s:%d: !%s is not a row of %s's \"Differences from Linux\"\n",
                   sc->file, st->line, st->diff_id, opt.api_shown);
        } else {
            t->documented++;
            note_id(t, st->diff_id);
        }
    } else if (st->diff_id != NULL) {
        t->stale++;
        printf("STALE %s:%d [%s] %s: both %s; the annotation !%s no longer applies\n",
               sc->file, st->line, sc->name, st->text, k, st->diff_id);
    }
}

static void run_scenario(struct sd_backend *kb, struct sd_backend *sb,
                         const struct sd_scenario *sc, struct side_out *out, struct totals *t)
{
    struct side_out *ko = &out[0], *so = &out[1];
    if (opt.synack_only) {
        int sst = fork_side(sb, sc, so);
        t->scenarios++;
        t->failures += !side_ok("synack", sc, so, sst);
        t->run_only += so->started;
        return;
    }
    int kst = fork_side(kb, sc, ko);
    if (ko->skip)
        return;
    int sst = fork_side(sb, sc, so);
    t->scenarios++;
    if (opt.verbose)
        printf("scenario %s (%s:%d): %s\n  %4s %-44s %-30s %-30s\n", sc->name, sc->file,
               sc->line, sc->desc, "line", "step", "kernel", "synack");
    bool kok = side_ok("kernel", sc, ko, kst), sok = side_ok("synack", sc, so, sst);
    t->failures += !kok + !sok;
    int n = ko->started < so->started ? ko->started : so->started;
    /* A crashed side's last step never finished: compare only the steps both completed. */
    if (!kok || !sok)
        n--;
    for (int i = 0; i < n && i < sc->nsteps; i++)
        compare_step(sc, i, ko, so, t);
}

static void summary(const struct totals *t)
{
    if (opt.synack_only) {
        printf("sockdiff: %d scenarios, %d steps run on synack only (nothing compared), "
               "%d failed or crashed\n", t->scenarios, t->run_only, t->failures);
        return;
    }
    printf("sockdiff: %d scenarios, %d steps compared, %d differ (%d documented in %s%s",
           t->scenarios, t->compared, t->differ, t->documented, opt.api_shown,
           t->nids ? ":" : "");
    for (int i = 0; i < t->nids; i++)
        printf(" %s", t->ids[i]);
    printf("), %d undocumented, %d stale", t->undocumented, t->stale);
    if (t->failures)
        printf(", %d failed or crashed", t->failures);
    printf("\n");
}

static int usage(void)
{
    fprintf(stderr, "usage: sockdiff [-v] [-s SCENARIO] [--api PATH/docs/api.md] [--no-netns] "
                    "[--synack-only] FILE.sd...\n"
                    "  --synack-only: run synack's side of every scenario and compare nothing;\n"
                    "  for valgrind, whose slowness would change what the kernel's side sees\n"
                    "  and which has nothing to find in it\n");
    return 2;
}

static int parse_args(int argc, char **argv, int *first)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0)
            opt.verbose = true;
        else if (strcmp(argv[i], "--no-netns") == 0)
            opt.no_netns = true;
        else if (strcmp(argv[i], "--synack-only") == 0)
            opt.synack_only = true;
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            opt.only = argv[++i];
        else if (strcmp(argv[i], "--api") == 0 && i + 1 < argc)
            opt.api_path = argv[++i], opt.api_shown = shown_path(opt.api_path);
        else
            return usage();
    }
    if (i == argc)
        return usage();
    if (opt.api_path == NULL) {
        opt.api_path = SD_SOURCE_DIR "/docs/api.md";
        opt.api_shown = "docs/api.md";
    }
    *first = i;
    return 0;
}

int main(int argc, char **argv)
{
    int first;
    if (parse_args(argc, argv, &first) != 0)
        return 2;
    if (geteuid() != 0 && !opt.no_netns && !opt.synack_only) {
        printf("sockdiff: skipped: needs root for its network namespaces (or --no-netns)\n");
        return 77;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sd_scenario *v = NULL;
    int n = 0;
    for (int i = first; i < argc; i++)
        if (sd_parse_file(argv[i], shown_path(argv[i]), &v, &n) != 0)
            return 1;
    if (read_api_ids(opt.api_path) != 0)
        return 1;
    struct sd_backend kb, sb;
    sd_backend_kernel(&kb, !opt.no_netns);
    sd_backend_synack(&sb);
    struct side_out *out = mmap(NULL, 2 * sizeof(*out), PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (out == MAP_FAILED)
        return perror("mmap"), 1;
    struct totals t = {0};
    for (int i = 0; i < n; i++) {
        v[i].port_base = opt.no_netns ? 20000 + 10 * (i % 2000) : SD_PORT_BASE;
        if (opt.only == NULL || strcmp(opt.only, v[i].name) == 0)
            run_scenario(&kb, &sb, &v[i], out, &t);
    }
    if (opt.only != NULL && t.scenarios == 0 && !t.failures) {
        printf("sockdiff: no scenario named %s\n", opt.only);
        t.failures++;
    }
    summary(&t);
    munmap(out, 2 * sizeof(*out));
    sd_scenarios_free(v, n);
    for (int i = 0; i < opt.n_api_ids; i++)
        free(opt.api_ids[i]);
    if (opt.synack_only)
        return t.failures ? 1 : 0;
    return t.undocumented || t.stale || t.failures ? 1 : 0;
}

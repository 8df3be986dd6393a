/* sockdiff: reads scenario files (grammar in tests/diff/README.md).
 *
 *   scenario NAME [blocking]: description
 *     [name =] [Tn:] op arg... [!diff-id]   # comment
 *     ephemeral LO HI                        (a directive of the scenario, not a step)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockdiff.h"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int perr(const char *path, int line, const char *what, const char *text)
{
    fprintf(stderr, "%s:%d: parse error: %s: %s\n", path, line, what, text);
    return -1;
}

/* `scenario NAME [blocking]: description` */
static int parse_header(const char *path, int line, char *s, struct sd_scenario *sc)
{
    char *colon = strchr(s, ':');
    if (colon == NULL)
        return perr(path, line, "expected `scenario NAME: description`", s);
    *colon = '\0';
    char *name = trim(s + strlen("scenario"));
    char *flag = strchr(name, '[');
    if (flag != NULL) {
        *flag = '\0';
        if (strcmp(trim(flag + 1), "blocking]") != 0)
            return perr(path, line, "unknown scenario flag (only [blocking])", flag + 1);
        sc->blocking = true;
    }
    name = trim(name);
    if (*name == '\0' || strpbrk(name, " \t") != NULL)
        return perr(path, line, "scenario name must be one word", name);
    sc->name = strdup(name);
    sc->desc = strdup(trim(colon + 1));
    sc->file = path;
    sc->line = line;
    return 0;
}

/* Numbers written as ports (`B:5001`, `A:80`) print as themselves in results; any other
 * port that is not Pn prints as `eph`. */
static void note_literal_ports(struct sd_scenario *sc, const char *tok)
{
    const char *colon = strchr(tok, ':');
    if (colon == NULL || !isdigit((unsigned char)colon[1]) || sc->nliteral == 16)
        return;
    sc->literal_ports[sc->nliteral++] = atoi(colon + 1);
}

static bool is_thread(const char *t)
{
    return t[0] == 'T' && isdigit((unsigned char)t[1]) && t[strlen(t) - 1] == ':';
}

static int tokenize(const char *path, int line, char *s, struct sd_scenario *sc,
                    struct sd_step *st)
{
    char *tok[SD_MAX_ARGS + 4];
    int n = 0;
    for (char *t = strtok(s, " \t"); t != NULL; t = strtok(NULL, " \t")) {
        if (n == SD_MAX_ARGS + 4)
            return perr(path, line, "too many words", st->text);
        tok[n++] = t;
    }
    int i = 0;
    /* `Tn: name = op ...` or `name = Tn: op ...` */
    for (int pass = 0; pass < 2; pass++) {
        if (i + 1 < n && strcmp(tok[i + 1], "=") == 0 && st->assign == NULL) {
            st->assign = tok[i];
            i += 2;
        }
        if (i < n && is_thread(tok[i]) && st->thread == 0) {
            st->thread = atoi(tok[i] + 1);
            if (st->thread < 1 || st->thread > SD_MAX_THREADS)
                return perr(path, line, "thread must be T1..T8", tok[i]);
            if (!sc->blocking)
                return perr(path, line, "threads only in a [blocking] scenario", tok[i]);
            i++;
        }
    }
    if (i == n)
        return perr(path, line, "no operation", st->text);
    st->op = tok[i++];
    for (; i < n; i++) {
        if (tok[i][0] == '!') {
            if (i != n - 1 || tok[i][1] == '\0')
                return perr(path, line, "`!id` must be the last word", st->text);
            st->diff_id = tok[i] + 1;
        } else {
            if (st->nargs == SD_MAX_ARGS)
                return perr(path, line, "too many arguments", st->text);
            st->arg[st->nargs++] = tok[i];
            note_literal_ports(sc, tok[i]);
        }
    }
    return 0;
}

static int parse_step(const char *path, int line, char *s, struct sd_scenario *sc)
{
    if (sc->nsteps == SD_MAX_STEPS)
        return perr(path, line, "too many steps in one scenario", s);
    if (strncmp(s, "ephemeral ", 10) == 0) {
        if (sscanf(s + 10, "%d %d", &sc->eph_lo, &sc->eph_hi) != 2 || sc->eph_lo < 1 ||
            sc->eph_hi > 65535 || sc->eph_lo > sc->eph_hi)
            return perr(path, line, "expected `ephemeral LO HI` (1..65535)", s);
        return 0;
    }
    struct sd_step *st = &sc->steps[sc->nsteps];
    memset(st, 0, sizeof(*st));
    st->line = line;
    /* One allocation holds the display text and, after it, the words strtok cuts. */
    size_t len = strlen(s);
    st->text = malloc(2 * len + 2);
    if (st->text == NULL)
        return perr(path, line, "out of memory", s);
    memcpy(st->text, s, len + 1);
    char *bang = strrchr(st->text, '!');
    if (bang != NULL && bang > st->text && isspace((unsigned char)bang[-1])) {
        *bang = '\0';
        trim(st->text); /* s is trimmed on the left already: this only cuts the right */
    }
    char *words = st->text + len + 1;
    memcpy(words, s, len + 1);
    int rc = tokenize(path, line, words, sc, st);
    if (rc != 0) {
        free(st->text);
        return rc;
    }
    sc->nsteps++;
    return 0;
}

static struct sd_scenario *new_scenario(struct sd_scenario **v, int *n)
{
    struct sd_scenario *nv = realloc(*v, (size_t)(*n + 1) * sizeof(**v));
    if (nv == NULL)
        return NULL;
    *v = nv;
    struct sd_scenario *sc = &nv[(*n)++];
    memset(sc, 0, sizeof(*sc));
    sc->steps = calloc(SD_MAX_STEPS, sizeof(*sc->steps));
    return sc->steps ? sc : NULL;
}

int sd_parse_file(const char *file, const char *path, struct sd_scenario **v, int *n)
{
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        perror(file);
        return -1;
    }
    char buf[1024];
    int line = 0, rc = 0;
    struct sd_scenario *sc = NULL;
    while (rc == 0 && fgets(buf, sizeof(buf), f) != NULL) {
        line++;
        char *hash = strchr(buf, '#');
        if (hash != NULL)
            *hash = '\0';
        char *s = trim(buf);
        if (*s == '\0')
            continue;
        if (strncmp(s, "scenario ", 9) == 0) {
            sc = new_scenario(v, n);
            rc = sc ? parse_header(path, line, s, sc) : perr(path, line, "out of memory", s);
        } else if (sc == NULL) {
            rc = perr(path, line, "a step before any `scenario` line", s);
        } else {
            rc = parse_step(path, line, s, sc);
        }
    }
    fclose(f);
    return rc;
}

void sd_scenarios_free(struct sd_scenario *v, int n)
{
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < v[i].nsteps; k++)
            free(v[i].steps[k].text);
        free(v[i].steps);
        free(v[i].name);
        free(v[i].desc);
    }
    free(v);
}

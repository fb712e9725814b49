/*
 * replay: runs a libFuzzer target's LLVMFuzzerTestOneInput once on every file of the
 * corpus directories (or single files) named on the command line, or, with no arguments,
 * in FUZZ_CORPUS (paths separated by ':'), as the fuzzer itself would start from them, but
 * built with any compiler and without libFuzzer. A target reports a bug by aborting, so
 * the run fails then; it also fails when a path cannot be read or no input ran. Prints how
 * many inputs ran. Linked with tests/fuzz/fuzz_resp.c and tests/fuzz/fuzz_cmd.c for make
 * check (Makefile.am); a build may name another variable than FUZZ_CORPUS with
 * -DREPLAY_CORPUS_ENV, so that each target finds its own corpus.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef REPLAY_CORPUS_ENV
#define REPLAY_CORPUS_ENV "FUZZ_CORPUS"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long ran;
static size_t ran_bytes;

/* Runs the target on one file, from a buffer of exactly its size (so that the sanitizers
 * see any read past the input). */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;

    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            uint8_t *nb;

            cap = cap ? cap * 2 : 4096;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                fprintf(stderr, "replay: %s: out of memory\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);

    {
        uint8_t *exact = malloc(len ? len : 1);

        if (exact == NULL) {
            fprintf(stderr, "replay: %s: out of memory\n", path);
            free(buf);
            return -1;
        }
        if (len)
            memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    ran++;
    ran_bytes += len;
    return 0;
}

static int skip_entry(const struct dirent *e)
{
    return e->d_name[0] != '.'; /* ".", "..", hidden files */
}

/* A directory: its regular files, in name order (not recursive). A file: itself. */
static int run_path(const char *path)
{
    struct stat st;
    struct dirent **names;
    int n, rc = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    n = scandir(path, &names, skip_entry, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
        char *full = malloc(len);

        if (full == NULL) {
            rc = -1;
        } else {
            snprintf(full, len, "%s/%s", path, names[i]->d_name);
            if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && run_file(full) != 0)
                rc = -1;
            free(full);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;

    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (run_path(argv[i]) != 0)
                rc = 1;
    } else {
        const char *env = getenv(REPLAY_CORPUS_ENV);
        char *list, *save = NULL;

        if (env == NULL || *env == '\0') {
            fprintf(stderr, "usage: %s CORPUS-DIR-OR-FILE... (or %s=DIR[:DIR...])\n", argv[0],
                    REPLAY_CORPUS_ENV);
            return 2;
        }
        list = strdup(env);
        if (list == NULL)
            return 1;
        for (char *p = strtok_r(list, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save))
            if (run_path(p) != 0)
                rc = 1;
        free(list);
    }
    printf("replay: %ld inputs ran (%zu bytes)\n", ran, ran_bytes);
    if (ran == 0) {
        fprintf(stderr, "replay: no input found\n");
        rc = 1;
    }
    return rc;
}

/*
 * replay_main.c - main() for the gcc builds of the fuzz targets: replays a
 * corpus as a regression test (`make fuzz-replay`, part of `make test`).
 *
 *   fuzz_<name> [-v] PATH...
 *
 * Each PATH is a file, or a directory whose regular files are replayed in
 * name order (not recursively). Every input goes once through
 * LLVMFuzzerTestOneInput(), from an exact-size heap copy, as libFuzzer
 * would. A crash ends the process with the sanitizer's report, preceded by
 * the name of the input that caused it; otherwise it prints
 *   fuzz-replay <name>: N inputs ok
 * and exits 0. -v names every input before running it.
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Provided by ASan/UBSan: called before the process dies of a report. */
void __sanitizer_set_death_callback(void (*callback)(void));

static char current[4096]; /* the input being run, for the crash note */
static bool verbose;

static void note_current(void)
{
    static const char prefix[] = "fuzz-replay: crashed on input: ";
    if (!current[0])
        return;
    /* write(2) only: this runs inside a crash or a signal handler. */
    if (write(STDERR_FILENO, prefix, sizeof(prefix) - 1) < 0 ||
        write(STDERR_FILENO, current, strlen(current)) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
        return;
}

/* FUZZ_CHECK aborts; sanitizer reports go through the death callback. */
static void on_abort(int sig)
{
    note_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the file into an exact-size heap buffer, so ASan flags a read one
 * byte past the input (NULL on error, errno set). */
static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *data;

    if (!f)
        return NULL;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return NULL;
    }
    *size = (size_t)st.st_size;
    data = malloc(*size); /* glibc and ASan return a distinct pointer for 0 */
    FUZZ_CHECK(data != NULL);
    FUZZ_CHECK(fread(data, 1, *size, f) == *size);
    fclose(f);
    return data;
}

static void run_file(const char *path)
{
    size_t size;
    uint8_t *data;

    snprintf(current, sizeof(current), "%s", path);
    if (verbose)
        fprintf(stderr, "fuzz-replay: %s\n", path);
    data = read_file(path, &size);
    if (!data) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    current[0] = '\0';
}

/* Replays a file or the regular files of a directory. Returns the count. */
static size_t run_path(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *e;
    char **names = NULL;
    size_t count = 0, cap = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return 1;
    }
    dir = opendir(path);
    FUZZ_CHECK(dir != NULL);
    while ((e = readdir(dir)) != NULL) {
        char full[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (count == cap) {
            char **grown;
            cap = cap ? cap * 2 : 64;
            grown = realloc(names, cap * sizeof(*names));
            FUZZ_CHECK(grown != NULL);
            names = grown;
        }
        names[count] = strdup(full);
        FUZZ_CHECK(names[count] != NULL);
        count++;
    }
    closedir(dir);
    if (count)
        qsort(names, count, sizeof(*names), name_cmp);
    for (size_t i = 0; i < count; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    size_t total = 0;
    int first = 1;

    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = true;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] FILE|DIR...\n", name);
        return 2;
    }
    __sanitizer_set_death_callback(note_current);
    signal(SIGABRT, on_abort);
    for (int i = first; i < argc; i++)
        total += run_path(argv[i]);
    printf("fuzz-replay %s: %zu inputs ok\n", name, total);
    return 0;
}

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
 * Leaks are charged to the input that caused them, as libFuzzer does:
 * malloc/free hooks count both during each input, and when they differ a
 * LeakSanitizer check runs at once (the check costs milliseconds, so only
 * then). Sanitizer defaults are compiled in (__asan_default_options etc.);
 * the environment can still override them.
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* In ASan's runtime; gcc ships no header for it (allocator_interface.h). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

/* Read by the sanitizer runtimes at start-up. UBSan aborts on its first
 * report, so on_abort() can name the input (libubsan has its own death
 * callback list, which __sanitizer_set_death_callback does not reach). */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return "detect_leaks=1";
}

const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1:halt_on_error=1:abort_on_error=1";
}

static char current[4096]; /* the input being run, for the crash note */
static bool verbose;
static size_t mallocs, frees; /* counted while an input runs */
static bool counting;

static void on_malloc(const volatile void *p, size_t size)
{
    (void)p;
    (void)size;
    if (counting)
        mallocs++;
}

static void on_free(const volatile void *p)
{
    if (counting && p)
        frees++;
}

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
    mallocs = frees = 0;
    counting = true;
    LLVMFuzzerTestOneInput(data, size);
    counting = false;
    if (mallocs != frees && __lsan_do_recoverable_leak_check()) {
        note_current();
        _exit(1); /* not exit(): LeakSanitizer would report the same leak again */
    }
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
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
    signal(SIGABRT, on_abort);
    for (int i = first; i < argc; i++)
        total += run_path(argv[i]);
    if (strncmp(name, "fuzz_", 5) == 0)
        name += 5; /* the target's name, as in tests/fuzz/corpus/<name> */
    printf("fuzz-replay %s: %zu inputs ok\n", name, total);
    return 0;
}

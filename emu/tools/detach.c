/* serve --detach and stop (detach.h): the state directory, the fork before
 * any thread, the hand-over from the background serve to the foreground
 * process through a pipe, and the stop sequence. */
#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE_MS 10000     /* SIGTERM, then SIGKILL: the serve cleans up in well under a second */
#define KILL_WAIT_MS 5000
#define LOG_TAIL_LINES 3

/* the background serve's side */
static struct {
    bool active;
    char dir[PATH_MAX];
    int ready_fd;               /* the pipe to the foreground process */
    char **env_before;          /* the environment serve --detach started in */
    bool keep_restore;          /* a restore file of an earlier serve that ended by itself */
} bg = { .ready_fd = -1 };

void shell_put_quoted(FILE *f, const char *text)
{
    fputc('\'', f);
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}

/* DIR/NAME; a name too long for PATH_MAX is cut (and then not found) */
static void state_path(const char *dir, const char *name, char *out, size_t cap)
{
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap)
        out[cap - 1] = '\0';
}

/* The state directory's name: --state-dir, $XDG_RUNTIME_DIR/hilda-emu or
 * /tmp/hilda-emu-UID. */
static void state_dir_name(const char *given, char *out, size_t cap)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (given)
        snprintf(out, cap, "%s", given);
    else if (xdg && *xdg)
        snprintf(out, cap, "%s/hilda-emu", xdg);
    else
        snprintf(out, cap, "/tmp/hilda-emu-%u", (unsigned)getuid());
}

/* The directory must be ours and closed to others: in /tmp someone else
 * could have made it first. 0, or -1 with a sentence on stderr. */
static int check_state_dir(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        fprintf(stderr, "hilda-emu: state directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 022)) {
        fprintf(stderr, "hilda-emu: state directory %s is not a directory of yours closed to others "
                "(give another with --state-dir)\n", dir);
        return -1;
    }
    return 0;
}

static long read_pid(const char *dir)
{
    char path[PATH_MAX];
    state_path(dir, "pid", path, sizeof path);
    FILE *f = fopen(path, "re");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid;
}

/* Written to NAME.tmp and renamed: a reader sees all of it or nothing. */
static int write_state_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    state_path(dir, name, path, sizeof path);
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -1;
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static bool state_file_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    state_path(dir, name, path, sizeof path);
    return access(path, F_OK) == 0;
}

static char **copy_environment(void)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **copy = calloc(n + 1, sizeof *copy);
    for (size_t i = 0; copy && i < n; i++)
        copy[i] = strdup(environ[i]);
    return copy;
}

static const char *value_before(const char *name)
{
    size_t len = strlen(name);
    for (char **e = bg.env_before; e && *e; e++) {
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    }
    return NULL;
}

static volatile sig_atomic_t foreground_interrupted;

static void on_foreground_signal(int sig)
{
    foreground_interrupted = sig;
}

/* The foreground process: the background serve writes one byte once it is
 * ready; end of file without it means it ended. */
static int wait_for_background(pid_t pid, int fd)
{
    struct sigaction sa = { .sa_handler = on_foreground_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR) {
        if (foreground_interrupted) {
            kill(pid, SIGTERM);   /* nobody would receive its exports */
            break;
        }
    }
    close(fd);
    if (n == 1)
        return EXIT_OK;
    int status = 0;
    pid_t waited;
    do
        waited = waitpid(pid, &status, 0);
    while (waited < 0 && errno == EINTR);
    if (foreground_interrupted)
        return 128 + foreground_interrupted;
    if (WIFEXITED(status) && WEXITSTATUS(status) != EXIT_OK)
        return WEXITSTATUS(status);
    fprintf(stderr, "hilda-emu: the background serve ended before the dongle was ready\n");
    return EXIT_NO_DEVICE;
}

int detach_start(const struct options *o)
{
    char dir[PATH_MAX], path[PATH_MAX];
    state_dir_name(o->state_dir, dir, sizeof dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "hilda-emu: cannot make the state directory %s: %s\n", dir, strerror(errno));
        return EXIT_SETUP;
    }
    if (check_state_dir(dir))
        return EXIT_SETUP;
    state_path(dir, "lock", path, sizeof path);
    int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0) {
        fprintf(stderr, "hilda-emu: cannot open %s: %s\n", path, strerror(errno));
        return EXIT_SETUP;
    }
    if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "hilda-emu: a detached serve is running already (pid %ld, state in %s): "
                "end it with eval \"$(hilda-emu stop%s%s)\" first\n", read_pid(dir), dir,
                o->state_dir ? " --state-dir " : "", o->state_dir ? o->state_dir : "");
        close(lock);
        return EXIT_ALREADY_RUNNING;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fprintf(stderr, "hilda-emu: pipe: %s\n", strerror(errno));
        return EXIT_SETUP;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "hilda-emu: fork: %s\n", strerror(errno));
        return EXIT_SETUP;
    }
    if (pid > 0) {
        close(fds[1]);
        close(lock);              /* the background serve holds the lock now */
        return wait_for_background(pid, fds[0]);
    }
    /* the background serve: the lock stays held by `lock` until it ends */
    close(fds[0]);
    setsid();                     /* no terminal's SIGINT or SIGHUP */
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        close(null);
    }
    bg.active = true;
    bg.ready_fd = fds[1];
    snprintf(bg.dir, sizeof bg.dir, "%s", dir);
    bg.env_before = copy_environment();
    /* an earlier serve that ended without stop: its restore lines hold the
     * environment from before it, which this shell may still carry */
    bg.keep_restore = state_file_exists(dir, "restore");
    char text[32];
    snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (write_state_file(dir, "pid", text) != 0)
        fprintf(stderr, "hilda-emu: cannot write %s/pid: %s\n", dir, strerror(errno));
    return -1;
}

static void write_restore(const struct env_var *v, unsigned n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    for (unsigned i = 0; i < n; i++) {
        if (!v[i].value[0])
            continue;
        const char *before = value_before(v[i].name);
        if (before) {
            fprintf(f, "export %s=", v[i].name);
            shell_put_quoted(f, before);
            fputc('\n', f);
        } else {
            fprintf(f, "unset %s\n", v[i].name);
        }
    }
    fclose(f);
    if (write_state_file(bg.dir, "restore", text) != 0)
        fprintf(stderr, "hilda-emu: cannot write %s/restore: %s\n", bg.dir, strerror(errno));
    free(text);
}

void detach_ready(const struct env_var *v, unsigned n, bool log_on_stderr)
{
    if (!bg.active)
        return;
    if (!bg.keep_restore)
        write_restore(v, n);
    char log[PATH_MAX];
    state_path(bg.dir, "serve.log", log, sizeof log);
    fprintf(stderr, "hilda-emu: serving in the background (pid %ld)%s%s; end it with eval \"$(hilda-emu stop)\"\n",
            (long)getpid(), log_on_stderr ? ", diagnostics in " : "", log_on_stderr ? log : "");
    fflush(stdout);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int err = log_on_stderr ? open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600) : -1;
    if (null >= 0)
        dup2(null, STDOUT_FILENO);   /* the end of file the shell's $(...) waits for */
    if (err >= 0 || null >= 0)
        dup2(err >= 0 ? err : null, STDERR_FILENO);
    if (err >= 0)
        close(err);
    if (null >= 0)
        close(null);
    if (write(bg.ready_fd, "R", 1) != 1) {
        /* the foreground process is gone: it was interrupted and sends SIGTERM */
    }
    close(bg.ready_fd);
    bg.ready_fd = -1;
}

void detach_finish(void)
{
    if (!bg.active)
        return;
    char path[PATH_MAX];
    state_path(bg.dir, "pid", path, sizeof path);
    unlink(path);
    for (char **e = bg.env_before; e && *e; e++)
        free(*e);
    free(bg.env_before);
    bg.env_before = NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Takes the lock within ms milliseconds (the serve has ended): true. */
static bool lock_within(int lock, long ms)
{
    for (long waited = 0; ; waited += 20) {
        if (flock(lock, LOCK_EX | LOCK_NB) == 0)
            return true;
        if (waited >= ms)
            return false;
        sleep_ms(20);
    }
}

/* The last lines of the log of a serve that ended by itself: why it did. */
static void print_log_tail(const char *dir)
{
    char path[PATH_MAX];
    state_path(dir, "serve.log", path, sizeof path);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char lines[LOG_TAIL_LINES][512];
    unsigned n = 0;
    while (fgets(lines[n % LOG_TAIL_LINES], sizeof lines[0], f))
        n++;
    fclose(f);
    unsigned first = n > LOG_TAIL_LINES ? n - LOG_TAIL_LINES : 0;
    for (unsigned i = first; i < n; i++)
        fprintf(stderr, "  %s", lines[i % LOG_TAIL_LINES]);
}

static void remove_state(const char *dir)
{
    static const char *const names[] = { "restore", "pid", "serve.log", "lock" };
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        state_path(dir, names[i], path, sizeof path);
        unlink(path);
    }
    rmdir(dir);   /* only if nothing else is in it (a --state-dir may hold more) */
}

static void print_restore(const char *dir)
{
    char path[PATH_MAX], buf[4096];
    state_path(dir, "restore", path, sizeof path);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    fflush(stdout);
}

int detach_stop(const char *state_dir)
{
    char dir[PATH_MAX], path[PATH_MAX];
    state_dir_name(state_dir, dir, sizeof dir);
    state_path(dir, "lock", path, sizeof path);
    int lock = open(path, O_RDWR | O_CLOEXEC);
    if (lock < 0 || lock_within(lock, 0)) {
        bool leftover = state_file_exists(dir, "restore");
        if (!leftover) {
            fprintf(stderr, "hilda-emu: no detached serve is running (nothing to stop; "
                    "hilda-emu serve --detach starts one)\n");
        } else {
            fprintf(stderr, "hilda-emu: no detached serve is running: it had ended by itself; "
                    "the lines that restore the environment are printed all the same. Its log ended with:\n");
            print_log_tail(dir);
            print_restore(dir);
            remove_state(dir);
        }
        if (lock >= 0)
            close(lock);
        return EXIT_NOT_RUNNING;
    }
    if (check_state_dir(dir)) {
        close(lock);
        return EXIT_SETUP;
    }
    long pid = 0;
    for (int i = 0; i < 50 && pid <= 0; i++) {   /* a serve just forked writes it at once */
        if ((pid = read_pid(dir)) <= 0)
            sleep_ms(20);
    }
    if (pid <= 0 && lock_within(lock, 2000)) {
        /* it was ending by itself (pid file gone, lock not yet released) */
        close(lock);
        return detach_stop(state_dir);
    }
    if (pid <= 0) {
        fprintf(stderr, "hilda-emu: a detached serve holds %s but left no pid file\n", path);
        close(lock);
        return EXIT_SETUP;
    }
    kill((pid_t)pid, SIGTERM);
    if (!lock_within(lock, STOP_GRACE_MS)) {
        fprintf(stderr, "hilda-emu: the detached serve (pid %ld) did not end within %d s of SIGTERM: killing it\n",
                pid, STOP_GRACE_MS / 1000);
        kill((pid_t)pid, SIGKILL);
        if (!lock_within(lock, KILL_WAIT_MS)) {
            fprintf(stderr, "hilda-emu: the detached serve (pid %ld) does not end\n", pid);
            close(lock);
            return EXIT_SETUP;
        }
    }
    print_restore(dir);
    remove_state(dir);
    close(lock);
    fprintf(stderr, "hilda-emu: stopped the detached serve (pid %ld)\n", pid);
    return EXIT_OK;
}

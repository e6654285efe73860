/* Child supervision (supervise.h): fork + exec with the session's
 * environment, a pidfd watched by the run loop, and the stop sequence. */
#include "supervise.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "options.h"

#define CHILD_GRACE_MS 5000

struct child {
    const struct supervise_params *p;
    pid_t pid;
    int fd;                    /* pidfd */
    int status;
    bool done;
};

static void child_exited(struct soc *soc, void *ctx)
{
    struct child *s = ctx;
    (void)soc;
    int status;
    if (waitpid(s->pid, &status, WNOHANG) != s->pid)
        return;
    s->status = status;
    s->done = true;
    soc_unwatch_fd(machine_soc(s->p->m), s->fd);
    machine_request_stop(s->p->m);
}

/* fork + exec with the session's environment; the child gets a timer slack
 * of 1 ns (the preload's usleep(0) after each ioctl otherwise costs 50 us). */
static int spawn(struct child *s, char **argv)
{
    const struct env_var *v = s->p->env;
    const unsigned nv = s->p->n_env;
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = calloc(n + nv + 1, sizeof *envp);
    if (!envp)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (unsigned j = 0; j < nv; j++) {
            size_t len = strlen(v[j].name);
            replaced |= strncmp(environ[i], v[j].name, len) == 0 && environ[i][len] == '=';
        }
        if (!replaced)
            envp[k++] = environ[i];
    }
    char **owned = calloc(nv ? nv : 1, sizeof *owned);
    if (!owned) {
        free(envp);
        return -1;
    }
    for (unsigned j = 0; j < nv; j++) {
        size_t len = strlen(v[j].name) + strlen(v[j].value) + 2;
        owned[j] = malloc(len);
        if (owned[j])
            snprintf(owned[j], len, "%s=%s", v[j].name, v[j].value);
        if (owned[j] && v[j].value[0])
            envp[k++] = owned[j];
    }
    envp[k] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
        if (s->p->pin_cpu >= 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(s->p->pin_cpu, &one);
            sched_setaffinity(0, sizeof one, &one);
        }
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);    /* shell ignores these two in hilda-emu (session.c) */
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvpe(argv[0], argv, envp);
        int e = errno;
        fprintf(stderr, "hilda-emu: cannot run %s: %s\n", argv[0], strerror(e));
        _exit(e == ENOENT ? EXIT_RUN_NOTFOUND : EXIT_RUN_NOEXEC);
    }
    int saved = errno;
    for (unsigned j = 0; j < nv; j++)
        free(owned[j]);
    free(owned);
    free(envp);
    if (pid < 0) {
        fprintf(s->p->log, "hilda-emu: cannot start %s: %s\n", argv[0], strerror(saved));
        return -1;
    }
    s->pid = pid;
    s->fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (s->fd >= 0)
        soc_watch_fd(machine_soc(s->p->m), s->fd, child_exited, s);
    return 0;
}

static int64_t ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The command is told to stop (SIGTERM or stop_signal) while the dongle keeps answering:
 * the preload blocks signals during an ioctl, so a client only dies once
 * its ioctl returns. SIGKILL after the grace time. */
static void stop_child(struct child *s, bool machine_usable)
{
    if (s->pid <= 0 || s->done)
        return;
    kill(s->pid, s->p->stop_signal ? s->p->stop_signal : SIGTERM);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool killed = false;
    while (!s->done) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->status = status;
            s->done = true;
            break;
        }
        if (!killed && ms_since(&t0) > CHILD_GRACE_MS) {
            kill(s->pid, SIGKILL);
            killed = true;
        }
        if (machine_usable) {
            hilda_emu_stop_signal = 0;
            if (machine_run(s->p->m, soc_now(machine_soc(s->p->m)) + SOC_MS(10)) == RUN_FAULT)
                machine_usable = false;
        } else {
            struct timespec ts = { 0, 10 * 1000000 };
            nanosleep(&ts, NULL);
        }
    }
}

int supervise_run(const struct supervise_params *p)
{
    struct child child = { .p = p, .fd = -1 }, *s = &child;
    if (spawn(s, p->argv))
        return EXIT_RUN_FAILED;
    int rc = -1;
    while (!s->done) {
        enum run_status st = machine_run(s->p->m, UINT64_MAX);
        if (st == RUN_FAULT) {
            fprintf(s->p->log, "hilda-emu: run ended by a fault: %s; stopping %s\n", machine_fault_summary(s->p->m),
                    p->argv[0]);
            stop_child(s, false);
            rc = EXIT_RUN_FAULT;
            break;
        }
        if (hilda_emu_stop_signal && !s->done) {
            stop_child(s, true);
            break;
        }
        if (st == RUN_IDLE) {
            /* nothing can wake the firmware: wait for the command alone */
            int status;
            if (waitpid(s->pid, &status, 0) == s->pid) {
                s->status = status;
                s->done = true;
            }
        }
    }
    if (s->fd >= 0) {
        soc_unwatch_fd(machine_soc(s->p->m), s->fd);
        close(s->fd);
        s->fd = -1;
    }
    if (rc >= 0)
        return rc;
    if (WIFEXITED(s->status))
        return WEXITSTATUS(s->status);
    if (WIFSIGNALED(s->status))
        return 128 + WTERMSIG(s->status);
    return EXIT_RUN_FAILED;
}


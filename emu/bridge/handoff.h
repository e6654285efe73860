/* Hand-overs between the bridge's two threads that go through glib or
 * umockdev (a handler attached on the CPU thread and called on umockdev's
 * worker; a GSource invoked on the worker's GMainContext). Those libraries
 * synchronize with their own futex-based locks, which ThreadSanitizer
 * cannot see when they are not instrumented (Debian's builds are not), so
 * in hilda-emu-tsan every object handed over that way would look raced.
 * HANDOFF_RELEASE on the sending thread before the hand-over and
 * HANDOFF_ACQUIRE on the receiving thread tell TSan about the ordering the
 * library really provides. They add no synchronization of their own and
 * compile to nothing in every other build. */
#ifndef EMU_BRIDGE_HANDOFF_H
#define EMU_BRIDGE_HANDOFF_H

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define HANDOFF_RELEASE(p) __tsan_release((void *)(p))
#define HANDOFF_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define HANDOFF_RELEASE(p) ((void)(p))
#define HANDOFF_ACQUIRE(p) ((void)(p))
#endif

#endif

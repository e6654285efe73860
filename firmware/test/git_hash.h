/* The host-compiled unit tests are built from no particular commit: their
 * firmware reports git hash 0, "unknown" in the vendor protocol. */
#define HILDA_GIT_HASH 0x0

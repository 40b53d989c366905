#!/bin/sh
# redis-server with the AddressSanitizer and UBSan runtimes preloaded, so a swarm.so built
# with SWARM_SANITIZER=address can be loaded into Debian's stock server. Redis allocates
# through jemalloc, which ASan does not see: leaks are checked by the unit tests (cmocka
# and LeakSanitizer) and by used_memory in the integration tests instead.
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
LD_PRELOAD="$asan:$ubsan" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:abort_on_error=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" exec redis-server "$@"

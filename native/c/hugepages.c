/*
 * Cold start (docs/performance.md, "Third round: cold start"): before the .NET runtime starts, asks for
 * transparent huge pages on the executable's zero-filled tail (.bss and .hydrated: ~5.5 MB that Native AOT's
 * start-up writes whole, its type data "rehydrated"). With THP in "madvise" mode (Debian's default) that is
 * a couple of 2 MiB faults instead of ~1,000 4 KiB ones before Main. Linked into the binary by
 * Sandbox.csproj (target StartupHugePages) and run as an ELF constructor, before the runtime's main.
 * SANDBOX_STARTUP_HUGEPAGES=false turns it off. Nothing else: no allocation, no output, errors ignored.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

extern char _edata[], _end[]; /* the linker's: end of the file-backed data, end of .bss (the last: .hydrated) */

__attribute__((constructor)) static void sandbox_startup_hugepages(void)
{
    const char *off = getenv("SANDBOX_STARTUP_HUGEPAGES");
    if (off && (strcmp(off, "false") == 0 || strcmp(off, "0") == 0)) return;
    const uintptr_t page = 4096;
    uintptr_t start = ((uintptr_t)_edata + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)_end + page - 1) & ~(page - 1);
    if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
}

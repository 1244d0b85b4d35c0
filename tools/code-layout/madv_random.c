// Profiling aid for tools/code-layout/profile.py; never linked into the appliance.
// Preloaded into the profiled binary: before the program runs, it advises MADV_RANDOM on the executable's
// file mappings (a page fault then reads that one page, with no readahead) and drops the file's cached pages.
// Fault-around can then only map pages the process itself read, so the resident pages of the executable are
// the pages its code touched, to the page.
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((constructor)) static void advise_random(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return;
    char line[PATH_MAX + 128];
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char path[PATH_MAX] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &start, &end, path) == 3 && strcmp(path, exe) == 0)
            madvise((void *)start, end - start, MADV_RANDOM);
    }
    fclose(maps);
    int fd = open(exe, O_RDONLY);
    if (fd < 0) return;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

// p2prog exercises what a wasi:cli/command needs beyond cprog.c, one mode per first argument:
// args (arguments and environment), cat (stdin to stdout, then stderr), clock (monotonic time
// advances across a sleep, wall clock after 2020), random (getentropy), and exit N.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "args";
  if (strcmp(mode, "args") == 0) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++) printf("env %s\n", *e);
    return 0;
  }
  if (strcmp(mode, "cat") == 0) {
    char buf[4096];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
      fwrite(buf, 1, n, stdout);
      total += n;
    }
    fprintf(stderr, "cat: %zu bytes\n", total);
    return 0;
  }
  if (strcmp(mode, "clock") == 0) {
    struct timespec a, b, w;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec d = {0, 5000000};
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_gettime(CLOCK_REALTIME, &w);
    long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    printf("slept>=5ms %s, wall after 2020 %s\n", ns >= 5000000 ? "yes" : "no",
           w.tv_sec > 1577836800 ? "yes" : "no");
    return 0;
  }
  if (strcmp(mode, "random") == 0) {
    unsigned char a[32], b[32];
    if (getentropy(a, sizeof a) || getentropy(b, sizeof b)) return 2;
    printf("random differs %s\n", memcmp(a, b, sizeof a) ? "yes" : "no");
    return 0;
  }
  if (strcmp(mode, "exit") == 0) {
    printf("exiting with %d\n", argc > 2 ? atoi(argv[2]) : 0);
    fflush(stdout);
    exit(argc > 2 ? atoi(argv[2]) : 0);
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
